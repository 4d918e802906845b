//! `bench.svg`: grouped bars, one group per benchmark and one bar per engine, on a log scale. A bar
//! chart rather than the report's line chart: the x axis is a list of names, not a quantity. Not
//! the report's bar chart either (one bar per category, linear, values on the bars): this one is
//! several panels of grouped bars on a log scale. The canvas, frame and legend marks are the
//! report's ([`report::svg`], [`report::frame`], [`report::swatch`]).

use super::plan::Engine;
use crate::report::{self, chart_err};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// One chart: categories along x, and per column (engine or Go version) one value (or none) per
/// category.
pub struct Panel {
    pub title: String,
    pub unit: String,
    pub categories: Vec<String>,
    pub series: Vec<BarSeries>,
}

/// One column's bars: its name in the legend, its colour, a value (or none) per category.
pub struct BarSeries {
    pub name: String,
    pub colour: RGBColor,
    pub values: Vec<Option<f64>>,
}

/// A benchmark name short enough for an axis label.
pub fn short_name(name: &str) -> String {
    match name.strip_prefix("StaggeredTickerLatency/work-dur=") {
        Some(rest) => format!("Staggered {}", rest.replace("/tickers-per-P=", " x")),
        None => name.to_string(),
    }
}

/// The colour of a Rust engine's bars.
pub fn engine_colour(engine: Engine) -> RGBColor {
    match engine {
        Engine::Gotimer => RGBColor(0xd9, 0x48, 0x1c),
        Engine::Crossbeam => RGBColor(0x8a, 0x8a, 0x8a),
        Engine::TokioCt => RGBColor(0x4c, 0xa6, 0x4c),
        Engine::TokioMt => RGBColor(0x7b, 0x52, 0xab),
    }
}

/// The colour of the `k`-th Go version's bars (oldest first): shades of Go's blue.
pub fn go_colour(k: usize) -> RGBColor {
    const SHADES: [RGBColor; 3] = [
        RGBColor(0x00, 0x7d, 0x9c),
        RGBColor(0x00, 0xad, 0xd8),
        RGBColor(0x1f, 0x3f, 0x8f),
    ];
    SHADES[k % SHADES.len()]
}

/// Draws the panels one under the other into an SVG file.
pub fn draw(path: &Path, panels: &[Panel]) -> anyhow::Result<()> {
    let height = 480 * panels.len().max(1) as u32;
    let root = report::svg(path, (1200, height))?;
    let areas = root.split_evenly((panels.len().max(1), 1));
    for (panel, area) in panels.iter().zip(&areas) {
        draw_panel(&root, area, panel)?;
    }
    root.present().map_err(chart_err)?;
    Ok(())
}

fn draw_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    area: &DrawingArea<DB, plotters::coord::Shift>,
    panel: &Panel,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let values: Vec<f64> = panel
        .series
        .iter()
        .flat_map(|s| s.values.iter().flatten().copied())
        .filter(|v| *v > 0.0)
        .collect();
    let (lo, hi) = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let (lo, hi) = if values.is_empty() {
        (1.0, 10.0)
    } else {
        (lo / 3.0, hi * 3.0)
    };
    let n = panel.categories.len().max(1);
    let mut chart = report::frame(area, &panel.title, 20)
        .margin_top(40)
        .x_label_area_size(130)
        .build_cartesian_2d(0f64..n as f64, (lo..hi).log_scale())
        .map_err(chart_err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc(panel.unit.as_str())
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .y_label_formatter(&|v| format_value(*v))
        .draw()?;

    // Engines with no figure in this panel get no slot.
    let series: Vec<&BarSeries> = panel
        .series
        .iter()
        .filter(|s| s.values.iter().any(|v| v.is_some()))
        .collect();
    let groups = series.len().max(1) as f64;
    let width = 0.8 / groups;
    for (k, s) in series.iter().enumerate() {
        let c = s.colour;
        chart
            .draw_series(s.values.iter().enumerate().filter_map(|(i, v)| {
                let v = (*v).filter(|v| *v > 0.0)?;
                let x0 = i as f64 + 0.1 + k as f64 * width;
                Some(Rectangle::new(
                    [(x0, lo), (x0 + width * 0.9, v)],
                    c.filled(),
                ))
            }))?
            .label(s.name.as_str())
            .legend(move |p| report::swatch(p, c));
    }
    // The legend: one row above the caption, clear of the bars.
    let shown: Vec<(&str, RGBColor)> = series.iter().map(|s| (s.name.as_str(), s.colour)).collect();
    let (w, _) = area.dim_in_pixel();
    let step = 130i32;
    let x0 = (w as i32 - step * shown.len() as i32) / 2;
    for (k, (name, colour)) in shown.iter().enumerate() {
        let x = x0 + step * k as i32;
        area.draw(&Rectangle::new([(x, 12), (x + 14, 24)], colour.filled()))?;
        area.draw(&Text::new(
            name.to_string(),
            (x + 20, 18),
            TextStyle::from(("sans-serif", 15).into_font()).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }

    // Category names under their group, turned a quarter so long names fit.
    let style = TextStyle::from(("sans-serif", 13).into_font())
        .transform(FontTransform::Rotate90)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (i, name) in panel.categories.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(i as f64 + 0.5, lo));
        root.draw(&Text::new(name.clone(), (x, y + 6), style.clone()))?;
    }
    Ok(())
}

fn format_value(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.0}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.0}k", v / 1e3)
    } else if v >= 1.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_shorten() {
        assert_eq!(
            short_name("StaggeredTickerLatency/work-dur=300µs/tickers-per-P=10"),
            "Staggered 300µs x10"
        );
        assert_eq!(short_name("Reset"), "Reset");
    }

    #[test]
    fn draws_an_svg_with_missing_values() {
        let dir = std::env::temp_dir().join(format!("gotimer-lab-chart-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("b.svg");
        let panel = Panel {
            title: "t".into(),
            unit: "ns/op".into(),
            categories: vec!["A".into(), "B".into()],
            series: vec![
                BarSeries {
                    name: "gotimer".into(),
                    colour: engine_colour(Engine::Gotimer),
                    values: vec![Some(100.0), None],
                },
                BarSeries {
                    name: "go1.27.3".into(),
                    colour: go_colour(0),
                    values: vec![Some(1000.0), Some(5e6)],
                },
            ],
        };
        draw(&path, &[panel]).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(
            svg.contains("<svg")
                && svg.contains("gotimer")
                && svg.contains("go1.27.3")
                && svg.lines().any(|l| l.trim() == "B")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
