/// A report laid out for people: sections of paragraphs, facts, tables and charts. The Markdown and HTML
/// renderers draw the same document, so the two never disagree.
public struct ReportDocument: Sendable {
    /// The page title.
    public var title: String
    /// Lines under the title (what, when, from what).
    public var preface: [String]
    /// The sections in order.
    public var sections: [ReportSection]

    /// Creates a document.
    public init(title: String, preface: [String], sections: [ReportSection]) {
        self.title = title
        self.preface = preface
        self.sections = sections
    }
}

/// One titled section.
public struct ReportSection: Sendable {
    /// The heading.
    public var title: String
    /// The content.
    public var blocks: [ReportBlock]

    /// Creates a section.
    public init(_ title: String, _ blocks: [ReportBlock]) {
        self.title = title
        self.blocks = blocks
    }
}

/// A piece of a section.
public enum ReportBlock: Sendable {
    /// A paragraph of plain text.
    case paragraph(String)
    /// Label/value pairs.
    case facts([(String, String)])
    /// A bulleted list of plain-text items.
    case list([String])
    /// A table.
    case table(ReportTable)
    /// A chart (drawn as inline SVG in HTML; summarised in Markdown).
    case chart(ReportChart)
}

/// A table of plain-text cells.
public struct ReportTable: Sendable {
    /// Column headings.
    public var columns: [String]
    /// Rows of cells (each as many as `columns`).
    public var rows: [[String]]
    /// Indices of right-aligned (numeric) columns.
    public var numeric: Set<Int>

    /// Creates a table.
    public init(columns: [String], rows: [[String]], numeric: Set<Int> = []) {
        self.columns = columns
        self.rows = rows
        self.numeric = numeric
    }
}

/// A named data series.
public struct ChartSeries: Sendable {
    /// Legend name.
    public var name: String
    /// Fill colour (`#rrggbb`).
    public var color: String
    /// One value per point.
    public var values: [Double]

    /// Creates a series.
    public init(name: String, color: String, values: [Double]) {
        self.name = name
        self.color = color
        self.values = values
    }
}

/// An interval on a time line.
public struct ChartInterval: Sendable {
    /// Label (shown on hover as the SVG title).
    public var label: String
    /// Start.
    public var from: Instant
    /// End.
    public var until: Instant

    /// Creates an interval.
    public init(label: String, from: Instant, until: Instant) {
        self.label = label
        self.from = from
        self.until = until
    }
}

/// The charts the reports draw.
public enum ReportChart: Sendable {
    /// Stacked areas over time, stepping at each point (`x` instants ascending, series values stacked).
    case stackedSteps(title: String, x: [Instant], series: [ChartSeries], until: Instant?)
    /// Bars per labelled point: `up` series stack above the axis, `down` series below it.
    case divergingBars(title: String, labels: [String], up: [ChartSeries], down: [ChartSeries])
    /// Intervals on a time line between `start` and `end`, with tick marks at `marks`.
    case timeline(title: String, start: Instant, end: Instant, intervals: [ChartInterval], marks: [Instant])
    /// One horizontal bar per category (value, colour), with a share of `total` printed.
    case categories(title: String, items: [(label: String, value: Int, color: String)], total: Int)

    /// The chart's title.
    public var title: String {
        switch self {
        case .stackedSteps(let title, _, _, _), .divergingBars(let title, _, _, _), .timeline(let title, _, _, _, _),
            .categories(let title, _, _):
            title
        }
    }
}
