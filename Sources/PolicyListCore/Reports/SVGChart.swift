/// Draws `ReportChart`s as inline SVG: fixed size, deterministic coordinates, every label escaped, no scripts.
public enum SVGChart {
    static let width = 1000.0
    static let height = 360.0
    static let left = 64.0
    static let right = 16.0
    static let top = 16.0
    static let bottom = 64.0
    static var plotWidth: Double { width - left - right }
    static var plotHeight: Double { height - top - bottom }

    /// The `<svg>` element for a chart.
    public static func render(_ chart: ReportChart, id: String) -> String {
        var body: String
        var chartHeight = height
        switch chart {
        case .stackedSteps(_, let x, let series, let until):
            body = stackedSteps(x: x, series: series, until: until)
        case .divergingBars(_, let labels, let up, let down):
            body = divergingBars(labels: labels, up: up, down: down)
        case .timeline(_, let start, let end, let intervals, let marks):
            body = timeline(start: start, end: end, intervals: intervals, marks: marks)
            chartHeight = 200
        case .categories(_, let items, let total):
            chartHeight = top + Double(items.count) * 30 + 24
            body = categories(items: items, total: total)
        }
        let title = ReportEscape.html(chart.title)
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"\(id)\" role=\"img\" aria-labelledby=\"\(id)-t\" "
            + "width=\"\(f(width))\" height=\"\(f(chartHeight))\" viewBox=\"0 0 \(f(width)) \(f(chartHeight))\" "
            + "font-family=\"sans-serif\" font-size=\"11\">\n<title id=\"\(id)-t\">\(title)</title>\n"
            + "<rect class=\"plot-bg\" x=\"0\" y=\"0\" width=\"\(f(width))\" height=\"\(f(chartHeight))\" fill=\"#ffffff\"/>\n"
            + body + "</svg>"
    }

    /// A coordinate with one decimal.
    static func f(_ value: Double) -> String { ReportFormat.decimal(value, digits: 1) }

    /// The smallest 1/2/5×10^k at or above `value` (at least 1).
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 1 else { return 1 }
        var magnitude = 1.0
        while magnitude * 10 <= value { magnitude *= 10 }
        for step in [1.0, 2.0, 5.0, 10.0] where step * magnitude >= value { return step * magnitude }
        return 10 * magnitude
    }

    static func text(_ x: Double, _ y: Double, _ content: String, anchor: String = "start", fill: String = "#1b1f24")
        -> String
    {
        "<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\" fill=\"\(fill)\">\(ReportEscape.html(content))</text>\n"
    }

    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String = "#8c959f") -> String {
        "<line x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\" stroke=\"\(stroke)\" stroke-width=\"1\"/>\n"
    }

    static func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String, title: String? = nil)
        -> String
    {
        let open =
            "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(max(w, 0)))\" height=\"\(f(max(h, 0)))\" "
            + "fill=\"\(ReportEscape.html(fill))\""
        guard let title else { return open + "/>\n" }
        return open + "><title>" + ReportEscape.html(title) + "</title></rect>\n"
    }

    static func legend(_ series: [ChartSeries], y: Double) -> String {
        var out = ""
        var x = left
        for item in series {
            out += rect(x, y - 9, 10, 10, fill: item.color)
            out += text(x + 14, y, item.name)
            x += 24 + Double(item.name.count) * 6.5
        }
        return out
    }

    static func yAxis(max: Double, zeroY: Double, scale: Double, below: Double = 0) -> String {
        var out = ""
        for fraction in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let value = max * fraction
            let y = zeroY - value * scale
            out += line(left, y, width - right, y, stroke: "#eaeef2")
            out += text(
                left - 6, y + 4, ReportFormat.decimal(value, digits: value < 10 && value != 0 ? 1 : 0),
                anchor: "end")
        }
        if below > 0 {
            let y = zeroY + below * scale
            out += line(left, y, width - right, y, stroke: "#eaeef2")
            out += text(left - 6, y + 4, ReportFormat.decimal(-below, digits: 0), anchor: "end")
        }
        return out
    }

    /// Month starts (UTC) strictly inside `start…end`, every `step` months.
    static func monthTicks(_ start: Instant, _ end: Instant, step: Int) -> [(Instant, String)] {
        let (startYear, startMonth, _) = civilFromDays(floorDiv(start.seconds, 86_400))
        var year = startYear
        var month = startMonth
        var out: [(Instant, String)] = []
        while out.count < 200 {
            month += 1
            if month > 12 {
                month = 1
                year += 1
            }
            let instant = Instant(seconds: daysFromCivil(year, month, 1) * 86_400)
            if instant > end { break }
            if (month - 1) % step == 0 { out.append((instant, pad(year, 4) + "-" + pad(Int64(month), 2))) }
        }
        return out
    }

    static func timeAxis(_ start: Instant, _ end: Instant, y: Double, x: (Instant) -> Double) -> String {
        let months = Double(end.seconds - start.seconds) / (30.44 * 86_400)
        let step = months > 36 ? 6 : months > 12 ? 3 : 1
        var out = line(left, y, width - right, y)
        for (instant, label) in monthTicks(start, end, step: step) {
            let position = x(instant)
            out += line(position, y, position, y + 4)
            out += text(position, y + 16, label, anchor: "middle")
        }
        return out
    }

    static func stackedSteps(x: [Instant], series: [ChartSeries], until: Instant?) -> String {
        guard let first = x.first, let lastPoint = x.last else { return text(left, top + 20, "no data") }
        var end = until ?? lastPoint
        if end <= first { end = first.adding(seconds: 86_400) }
        let span = Double(end.seconds - first.seconds)
        func xPos(_ instant: Instant) -> Double { left + Double(instant.seconds - first.seconds) / span * plotWidth }
        var totals = [Double](repeating: 0, count: x.count)
        for item in series {
            for (index, value) in item.values.enumerated() where index < x.count { totals[index] += value }
        }
        let maxValue = niceCeiling(totals.max() ?? 1)
        let scale = plotHeight / maxValue
        let zeroY = top + plotHeight
        var out = yAxis(max: maxValue, zeroY: zeroY, scale: scale)
        var base = [Double](repeating: 0, count: x.count)
        for item in series {
            out += "<g class=\"series\" data-series=\"\(ReportEscape.html(item.name))\">\n"
            for index in x.indices {
                let value = index < item.values.count ? item.values[index] : 0
                guard value > 0 else { continue }
                let x0 = xPos(x[index])
                let x1 = index + 1 < x.count ? xPos(x[index + 1]) : xPos(end)
                let y = zeroY - (base[index] + value) * scale
                out += rect(x0, y, Swift.max(x1 - x0, 1), value * scale, fill: item.color)
                base[index] += value
            }
            out += "</g>\n"
        }
        out += timeAxis(first, end, y: zeroY, x: xPos)
        out += legend(series, y: height - 12)
        return out
    }

    static func divergingBars(labels: [String], up: [ChartSeries], down: [ChartSeries]) -> String {
        guard !labels.isEmpty else { return text(left, top + 20, "no data") }
        func total(_ series: [ChartSeries], _ index: Int) -> Double {
            series.reduce(0) { $0 + (index < $1.values.count ? $1.values[index] : 0) }
        }
        let maxUp = labels.indices.map { total(up, $0) }.max() ?? 0
        let maxDown = labels.indices.map { total(down, $0) }.max() ?? 0
        let range = niceCeiling(maxUp + maxDown)
        let scale = plotHeight / range
        let upShare = maxUp + maxDown > 0 ? maxUp / (maxUp + maxDown) : 1
        let zeroY = top + plotHeight * upShare
        var out = yAxis(max: maxUp, zeroY: zeroY, scale: scale, below: maxDown)
        let slot = plotWidth / Double(labels.count)
        let barWidth = Swift.max(slot * 0.7, 1)
        for (index, label) in labels.enumerated() {
            let x = left + Double(index) * slot + (slot - barWidth) / 2
            var above = 0.0
            for item in up where index < item.values.count && item.values[index] > 0 {
                let value = item.values[index]
                above += value
                out += rect(
                    x, zeroY - above * scale, barWidth, value * scale, fill: item.color,
                    title: "\(label): \(item.name) \(ReportFormat.decimal(value, digits: 0))")
            }
            var below = 0.0
            for item in down where index < item.values.count && item.values[index] > 0 {
                let value = item.values[index]
                out += rect(
                    x, zeroY + below * scale, barWidth, value * scale, fill: item.color,
                    title: "\(label): \(item.name) \(ReportFormat.decimal(value, digits: 0))")
                below += value
            }
        }
        out += line(left, zeroY, width - right, zeroY, stroke: "#57606a")
        let every = Swift.max(1, Int((Double(labels.count) * 28 / plotWidth).rounded(.up)))
        for (index, label) in labels.enumerated() where index % every == 0 {
            out += text(left + (Double(index) + 0.5) * slot, top + plotHeight + 16, label, anchor: "middle")
        }
        out += legend(up + down, y: height - 12)
        return out
    }

    static func timeline(start: Instant, end: Instant, intervals: [ChartInterval], marks: [Instant]) -> String {
        var last = end
        if last <= start { last = start.adding(seconds: 86_400) }
        let span = Double(last.seconds - start.seconds)
        func xPos(_ instant: Instant) -> Double {
            left + Swift.min(Swift.max(Double(instant.seconds - start.seconds) / span, 0), 1) * plotWidth
        }
        var out = text(left, 30, "published versions")
        for mark in marks { out += line(xPos(mark), 38, xPos(mark), 58, stroke: "#0969da") }
        out += text(left, 84, "lapses (newest list expired)")
        out += rect(left, 92, plotWidth, 40, fill: "#f6f8fa")
        for interval in intervals {
            let x0 = xPos(interval.from)
            let x1 = xPos(interval.until)
            out += rect(
                x0, 92, Swift.max(x1 - x0, 2), 40, fill: "#cf222e",
                title: "\(interval.label): \(interval.from.rfc3339Seconds) to \(interval.until.rfc3339Seconds)")
        }
        out += timeAxis(start, last, y: 150, x: xPos)
        return out
    }

    static func categories(items: [(label: String, value: Int, color: String)], total: Int) -> String {
        let labelWidth = 260.0
        let barSpace = width - labelWidth - 140
        let maxValue = Double(Swift.max(items.map(\.value).max() ?? 1, 1))
        var out = ""
        for (index, item) in items.enumerated() {
            let y = top + Double(index) * 30
            out += text(labelWidth - 8, y + 15, item.label, anchor: "end")
            let w = Double(item.value) / maxValue * barSpace
            out += rect(
                labelWidth, y + 2, Swift.max(w, item.value > 0 ? 2 : 0), 20, fill: item.color,
                title: "\(item.label): \(item.value)")
            out += text(labelWidth + w + 6, y + 15, "\(item.value) (\(ReportFormat.percent(item.value, of: total)))")
        }
        return out
    }
}
