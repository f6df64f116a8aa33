/// Renders a `ReportDocument` as GitHub-flavoured Markdown. Charts become a pointer to the HTML page plus
/// their data in words; every input string is escaped.
public enum MarkdownRenderer {
    /// The Markdown text (ends with a newline).
    public static func render(_ document: ReportDocument, htmlName: String) -> String {
        var out = "# " + ReportEscape.markdown(document.title) + "\n\n"
        for line in document.preface { out += ReportEscape.markdown(line) + "  \n" }
        if !document.preface.isEmpty { out += "\n" }
        for section in document.sections {
            out += "## " + ReportEscape.markdown(section.title) + "\n\n"
            for block in section.blocks {
                out += render(block, htmlName: htmlName)
                out += "\n"
            }
        }
        return out
    }

    static func render(_ block: ReportBlock, htmlName: String) -> String {
        switch block {
        case .paragraph(let text):
            return ReportEscape.markdown(text) + "\n"
        case .facts(let pairs):
            return table(ReportTable(columns: ["figure", "value"], rows: pairs.map { [$0.0, $0.1] }, numeric: [1]))
        case .list(let items):
            return items.map { "* " + ReportEscape.markdown($0) + "\n" }.joined()
        case .table(let content):
            return table(content)
        case .chart(let chart):
            return "*Chart: " + ReportEscape.markdown(chart.title) + " (drawn in " + ReportEscape.markdown(htmlName)
                + ").*\n"
        }
    }

    static func table(_ table: ReportTable) -> String {
        guard !table.rows.isEmpty else { return "(none)\n" }
        var out = "| " + table.columns.map(ReportEscape.markdown).joined(separator: " | ") + " |\n"
        out += "|" + table.columns.indices.map { table.numeric.contains($0) ? "---:|" : "---|" }.joined() + "\n"
        for row in table.rows {
            out += "| " + row.map { $0.isEmpty ? " " : ReportEscape.markdown($0) }.joined(separator: " | ") + " |\n"
        }
        return out
    }
}

/// Renders a `ReportDocument` as one self-contained HTML page: inline CSS, inline SVG charts, no scripts, no
/// external resources; every input string escaped.
public enum HTMLRenderer {
    /// The HTML page (ends with a newline).
    public static func render(_ document: ReportDocument) -> String {
        let title = ReportEscape.html(document.title)
        var out = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title)</title>
            <style>
            body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#1b1f24;background:#fff}
            h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:2em}
            table{border-collapse:collapse;margin:.8em 0;font-size:.85em}
            th,td{border:1px solid #d0d7de;padding:.25em .5em;text-align:left;vertical-align:top}
            th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
            .preface{color:#57606a}figure{margin:1em 0}figcaption{font-weight:600;margin-bottom:.3em}
            svg{max-width:100%;height:auto;border:1px solid #d0d7de;background:#fff}
            .wrap{overflow-x:auto}
            </style>
            </head>
            <body>
            <h1>\(title)</h1>

            """
        for line in document.preface { out += "<p class=\"preface\">" + ReportEscape.html(line) + "</p>\n" }
        var chartIndex = 0
        for section in document.sections {
            out += "<section>\n<h2>" + ReportEscape.html(section.title) + "</h2>\n"
            for block in section.blocks {
                switch block {
                case .paragraph(let text):
                    out += "<p>" + ReportEscape.html(text) + "</p>\n"
                case .facts(let pairs):
                    out += "<table class=\"facts\">\n"
                    for (label, value) in pairs {
                        out +=
                            "<tr><th scope=\"row\">" + ReportEscape.html(label) + "</th><td class=\"n\">"
                            + ReportEscape.html(value) + "</td></tr>\n"
                    }
                    out += "</table>\n"
                case .list(let items):
                    out += "<ul>\n" + items.map { "<li>" + ReportEscape.html($0) + "</li>\n" }.joined() + "</ul>\n"
                case .table(let table):
                    out += tableHTML(table)
                case .chart(let chart):
                    chartIndex += 1
                    out += "<figure>\n<figcaption>" + ReportEscape.html(chart.title) + "</figcaption>\n"
                    out += SVGChart.render(chart, id: "chart\(chartIndex)") + "\n</figure>\n"
                }
            }
            out += "</section>\n"
        }
        out += "</body>\n</html>\n"
        return out
    }

    static func tableHTML(_ table: ReportTable) -> String {
        guard !table.rows.isEmpty else { return "<p>(none)</p>\n" }
        var out = "<div class=\"wrap\"><table>\n<thead><tr>"
        for column in table.columns { out += "<th scope=\"col\">" + ReportEscape.html(column) + "</th>" }
        out += "</tr></thead>\n<tbody>\n"
        for row in table.rows {
            out += "<tr>"
            for (index, cell) in row.enumerated() {
                out += (table.numeric.contains(index) ? "<td class=\"n\">" : "<td>") + ReportEscape.html(cell) + "</td>"
            }
            out += "</tr>\n"
        }
        return out + "</tbody>\n</table></div>\n"
    }
}
