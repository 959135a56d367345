//! Charts drawn on the server as SVG: bars for one series, lines for several. Each carries a
//! title and a description for screen readers, and the same numbers are in the CSV download.

use std::fmt::Write;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 40.0;
const BOTTOM: f64 = 24.0;

/// A colour per series, told apart by more than hue: the legend names each.
const COLOURS: [&str; 10] =
    ["#1f5fa8", "#c2410c", "#15803d", "#7c3aed", "#b91c1c", "#0e7490", "#a16207", "#be185d", "#4b5563", "#65a30d"];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn open(out: &mut String, title: &str, description: &str, height: f64) {
    let _ = write!(
        out,
        r#"<svg viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-labelledby="t-{id} d-{id}" xmlns="http://www.w3.org/2000/svg"><title id="t-{id}">{t}</title><desc id="d-{id}">{d}</desc>"#,
        id = slug(title),
        t = escape(title),
        d = escape(description),
    );
}

fn slug(title: &str) -> String {
    title.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect()
}

fn axis(out: &mut String, max: f64, unit: &str) {
    let _ = write!(
        out,
        r##"<line x1="{LEFT}" y1="{y0}" x2="{WIDTH}" y2="{y0}" stroke="#555"/><text x="2" y="12" font-size="10">{max}{unit}</text><text x="2" y="{y0}" font-size="10">0</text>"##,
        y0 = HEIGHT - BOTTOM,
    );
}

/// One bar per label.
pub fn bars(title: &str, labels: &[String], values: &[f64], unit: &str) -> String {
    let mut out = String::new();
    let description =
        labels.iter().zip(values).map(|(l, v)| format!("{l}: {v:.1}{unit}")).collect::<Vec<_>>().join("; ");
    open(&mut out, title, &description, HEIGHT);
    let max = values.iter().copied().fold(0.0_f64, f64::max).max(1.0);
    axis(&mut out, max.ceil(), unit);
    let slot = (WIDTH - LEFT) / labels.len().max(1) as f64;
    for (i, (label, value)) in labels.iter().zip(values).enumerate() {
        let h = (HEIGHT - BOTTOM - 16.0) * value / max;
        let x = LEFT + i as f64 * slot;
        let _ = write!(
            out,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="#1f5fa8"><title>{l}: {value:.1}{unit}</title></rect>"##,
            y = HEIGHT - BOTTOM - h,
            w = (slot - 2.0).max(1.0),
            l = escape(label),
        );
        if labels.len() <= 31 && (labels.len() <= 12 || i % 5 == 0) {
            let _ = write!(out, r#"<text x="{x:.1}" y="{y}" font-size="9">{}</text>"#, escape(label), y = HEIGHT - 8.0);
        }
    }
    out.push_str("</svg>");
    out
}

/// One line per series over the same labels, with a legend.
pub fn lines(title: &str, labels: &[String], series: &[(String, Vec<f64>)]) -> String {
    let mut out = String::new();
    let description = series
        .iter()
        .map(|(name, values)| {
            format!("{name}: {}", values.iter().map(|v| format!("{v}")).collect::<Vec<_>>().join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ");
    let legend_rows = series.len().div_ceil(5) as f64;
    open(&mut out, title, &description, HEIGHT + 16.0 * legend_rows);
    let max = series.iter().flat_map(|(_, v)| v.iter().copied()).fold(0.0_f64, f64::max).max(1.0);
    axis(&mut out, max.ceil(), "");
    let step = (WIDTH - LEFT) / (labels.len().max(2) - 1) as f64;
    for (n, (name, values)) in series.iter().enumerate() {
        let colour = COLOURS[n % COLOURS.len()];
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                format!("{:.1},{:.1}", LEFT + i as f64 * step, HEIGHT - BOTTOM - (HEIGHT - BOTTOM - 16.0) * v / max)
            })
            .collect();
        let _ =
            write!(out, r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#, points.join(" "));
        let (lx, ly) = (LEFT + (n % 5) as f64 * 135.0, HEIGHT + 10.0 + 16.0 * (n / 5) as f64);
        let _ = write!(
            out,
            r#"<rect x="{lx}" y="{y}" width="10" height="10" fill="{colour}"/><text x="{tx}" y="{ly}" font-size="11">{}</text>"#,
            escape(name),
            y = ly - 9.0,
            tx = lx + 14.0,
        );
    }
    for (i, label) in labels.iter().enumerate().filter(|(i, _)| i % 5 == 0) {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{}" font-size="9">{}</text>"#,
            LEFT + i as f64 * step,
            HEIGHT - 8.0,
            escape(label)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_names_its_numbers_for_screen_readers_and_escapes_labels() {
        let svg = bars("Received per hour", &["<00>".into(), "01".into()], &[3.0, 5.0], "");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<title id=\"t-received-per-hour\">Received per hour</title>"), "{svg}");
        assert!(svg.contains("&lt;00&gt;: 3.0") && !svg.contains("<00>"), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 2);
        let svg = lines("Per state", &["a".into(), "b".into()], &[("registered".into(), vec![1.0, 2.0])]);
        assert!(svg.contains("<polyline") && svg.contains("registered: 1, 2"), "{svg}");
    }
}
