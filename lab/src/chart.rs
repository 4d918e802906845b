//! The lab's SVG charts, drawn with plotters' SVG backend (text is SVG `<text>` with plotters'
//! built-in font metrics: no system font library is needed): line charts for figures over a
//! quantity (`seed`'s heap over time, `scale`'s ns/op over pending timers) and bar charts for
//! figures per named category (`mem`'s bytes per kind of timer, `bench`'s benchmarks). Every chart
//! shares the canvas, the frame, the mesh and the legend's style.

use crate::report::{short, si};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// A series for [`line_charts`]: its name (shown in the legend) and its (x, y) points.
pub type Series = (String, Vec<(f64, f64)>);

/// Distinct colours for up to eight series, then repeated.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0xd6, 0x27, 0x28), // red
    RGBColor(0x1f, 0x77, 0xb4), // blue
    RGBColor(0x2c, 0xa0, 0x2c), // green
    RGBColor(0xff, 0x7f, 0x0e), // orange
    RGBColor(0x94, 0x67, 0xbd), // purple
    RGBColor(0x8c, 0x56, 0x4b), // brown
    RGBColor(0x17, 0xbe, 0xcf), // cyan
    RGBColor(0x7f, 0x7f, 0x7f), // grey
];

/// The colour of series `i` in every chart of the lab.
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// One line chart: a title, axis labels, and its series. With `log_x` (`log_y`), that axis is drawn
/// on a log10 scale over whole decades (x must then be positive; y values at or below zero are
/// drawn at the bottom of the axis).
pub struct LineChart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub series: &'a [Series],
    pub log_x: bool,
    pub log_y: bool,
}

/// Writes SVG line charts, stacked one under the other in one file, each with a legend: one line
/// per series, with a dot on each point when there are few.
pub fn line_charts(path: &Path, charts: &[LineChart]) -> anyhow::Result<()> {
    let root = svg(path, (960, 540 * charts.len().max(1) as u32))?;
    let areas = root.split_evenly((charts.len().max(1), 1));
    for (c, area) in charts.iter().zip(&areas) {
        draw_line_chart(area, c)?;
    }
    root.present().map_err(chart_err)?;
    Ok(())
}

/// A log10 axis: the smallest positive value shown, so that zero and negative values have a place.
const LOG_FLOOR: f64 = 1e-3;

fn draw_line_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    c: &LineChart,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let fx = |x: f64| if c.log_x { x.log10() } else { x };
    let fy = |y: f64| if c.log_y { y.max(LOG_FLOOR).log10() } else { y };
    let points = c.series.iter().flat_map(|(_, p)| p.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in points {
        anyhow::ensure!(!c.log_x || x > 0.0, "log-x chart with x = {x}");
        x0 = x0.min(fx(x));
        x1 = x1.max(fx(x));
        y0 = y0.min(fy(y));
        y1 = y1.max(fy(y));
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0); // no points: an empty frame
    }
    if !c.log_y {
        y0 = y0.min(0.0);
    }
    // Whole decades on log axes, so that the ticks fall on 1k, 10k, ... or 0.01, 0.1, 1, ...
    if c.log_x {
        (x0, x1) = (x0.floor(), x1.ceil());
    }
    if c.log_y {
        (y0, y1) = (y0.floor(), y1.ceil());
    }
    if x1 - x0 < 1e-9 {
        x1 = x0 + 1.0;
    }
    if y1 - y0 < 1e-9 {
        y1 = y0 + 1.0;
    }
    // Headroom for the legend, which takes about 5% of the height per series.
    let y1 = y1 + (y1 - y0) * (0.05 + 0.055 * c.series.len() as f64);
    let legend_at = emptier_corner(
        c.series,
        |x| (fx(x) - x0) / (x1 - x0),
        |y| (fy(y) - y0) / (y1 - y0),
    );
    let mut chart = frame(area, c.title, 22)
        .margin_right(28)
        .x_label_area_size(48)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(chart_err)?;
    let x_fmt = |v: &f64| {
        if c.log_x {
            si(10f64.powf(*v))
        } else {
            short(*v)
        }
    };
    let y_fmt = |v: &f64| {
        if c.log_y {
            short(10f64.powf(*v))
        } else {
            short(*v)
        }
    };
    let decades = |lo: f64, hi: f64| ((hi - lo).round() as usize + 1).max(2);
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(c.x_label)
        .y_desc(c.y_label)
        .x_labels(if c.log_x { decades(x0, x1) } else { 10 })
        .y_labels(if c.log_y { decades(y0, y1.floor()) } else { 10 })
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt);
    draw_mesh(&mut mesh, 13)?;
    for (i, (name, pts)) in c.series.iter().enumerate() {
        let colour = color(i);
        let pts: Vec<(f64, f64)> = pts.iter().map(|&(x, y)| (fx(x), fy(y))).collect();
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), colour.stroke_width(2)))
            .map_err(chart_err)?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3))
            });
        if pts.len() <= 40 {
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 3, colour.filled())))
                .map_err(chart_err)?;
        }
    }
    legend(&mut chart, legend_at)
}

/// The top corner of the plot (left or right, or bottom right if both top ones are crowded) with the
/// fewest points, for the legend. `nx`, `ny` map a point into 0..1.
fn emptier_corner(
    series: &[Series],
    nx: impl Fn(f64) -> f64,
    ny: impl Fn(f64) -> f64,
) -> SeriesLabelPosition {
    let box_w = 0.35;
    let box_h = 0.1 + 0.05 * series.len() as f64;
    let mut counts = [0usize; 3]; // upper left, upper right, lower right
    for (_, pts) in series {
        for &(x, y) in pts {
            let (x, y) = (nx(x), ny(y));
            counts[0] += usize::from(x <= box_w && y >= 1.0 - box_h);
            counts[1] += usize::from(x >= 1.0 - box_w && y >= 1.0 - box_h);
            counts[2] += usize::from(x >= 1.0 - box_w && y <= box_h);
        }
    }
    let best = (0..3).min_by_key(|&i| counts[i]).unwrap_or(0);
    [
        SeriesLabelPosition::UpperLeft,
        SeriesLabelPosition::UpperRight,
        SeriesLabelPosition::LowerRight,
    ][best]
        .clone()
}

/// One panel of a bar chart: categories along x and, in each, one bar per series that has a value
/// there (the bars of a category share its width).
pub struct Bars {
    pub title: String,
    pub unit: String,
    /// A log10 y axis over whole decades (for figures that span several), or a linear one from 0.
    pub log: bool,
    /// Each bar's value written above it.
    pub show_values: bool,
    pub categories: Vec<String>,
    pub series: Vec<BarSeries>,
}

/// One series of bars: its name in the legend, its colour, a value (or none) per category.
pub struct BarSeries {
    pub name: String,
    pub colour: RGBColor,
    pub values: Vec<Option<f64>>,
}

/// Writes SVG bar charts, the panels one under the other in one file, each with its legend in a row
/// above it, clear of the bars, and its category names turned a quarter under the axis, so that
/// long names fit.
pub fn bar_charts(path: &Path, panels: &[Bars]) -> anyhow::Result<()> {
    let root = svg(path, (1200, 480 * panels.len().max(1) as u32))?;
    let areas = root.split_evenly((panels.len().max(1), 1));
    for (panel, area) in panels.iter().zip(&areas) {
        draw_bars(&root, area, panel)?;
    }
    root.present().map_err(chart_err)?;
    Ok(())
}

fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    area: &DrawingArea<DB, Shift>,
    panel: &Bars,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    // On a log axis a bar is drawn from the bottom to log10 of its value; zero and below are left
    // out, having no place on it.
    let drawn = |v: f64| match panel.log {
        true => (v > 0.0).then(|| v.log10()),
        false => Some(v),
    };
    let tops: Vec<f64> = (panel.series.iter())
        .flat_map(|s| s.values.iter().flatten().filter_map(|&v| drawn(v)))
        .collect();
    let (lo, hi) = tops
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let (y0, y1) = match (panel.log, tops.is_empty()) {
        (_, true) => (0.0, 1.0),
        // At least half a decade under the shortest bar, and room for the values over the tallest.
        (true, false) => ((lo - 0.5).floor(), hi + 0.5),
        (false, false) => (lo.min(0.0), if hi > 0.0 { hi * 1.12 } else { 1.0 }),
    };
    let n = panel.categories.len().max(1);
    let mut chart = frame(area, &panel.title, 20)
        .margin_top(40)
        .x_label_area_size(130)
        .build_cartesian_2d(0f64..n as f64, y0..y1)
        .map_err(chart_err)?;
    let y_fmt = |v: &f64| match panel.log {
        true if 10f64.powf(*v) >= 1.0 => si(10f64.powf(*v)),
        true => short(10f64.powf(*v)),
        false => short(*v),
    };
    let mut mesh = chart.configure_mesh();
    mesh.disable_x_mesh()
        .x_labels(0)
        .y_desc(panel.unit.as_str())
        // On a log axis, one tick per decade.
        .y_labels(if panel.log {
            (y1 - y0) as usize + 1
        } else {
            10
        })
        .y_label_formatter(&y_fmt);
    draw_mesh(&mut mesh, 14)?;

    for (i, name) in panel.categories.iter().enumerate() {
        let here: Vec<(&BarSeries, f64)> = (panel.series.iter())
            .filter_map(|s| Some((s, s.values.get(i).copied().flatten()?)))
            .filter(|(_, v)| drawn(*v).is_some())
            .collect();
        let width = 0.8 / here.len().max(1) as f64;
        for (k, (s, v)) in here.iter().enumerate() {
            let (x0, top) = (i as f64 + 0.1 + k as f64 * width, drawn(*v).unwrap_or(y0));
            let bar = Rectangle::new([(x0, y0), (x0 + width * 0.9, top)], s.colour.filled());
            chart.draw_series([bar]).map_err(chart_err)?;
            if panel.show_values {
                let at = (x0, top + (y1 - y0) * 0.02);
                let label = Text::new(short(*v), at, ("sans-serif", 13));
                chart.draw_series([label]).map_err(chart_err)?;
            }
        }
        let (x, y) = chart.backend_coord(&(i as f64 + 0.5, y0));
        let style = TextStyle::from(("sans-serif", 13).into_font())
            .transform(FontTransform::Rotate90)
            .pos(Pos::new(HPos::Left, VPos::Center));
        root.draw(&Text::new(name.clone(), (x, y + 6), style))
            .map_err(chart_err)?;
    }

    // The legend: the series with a bar in this panel, in one row above the caption.
    let shown: Vec<&BarSeries> = (panel.series.iter())
        .filter(|s| s.values.iter().any(Option::is_some))
        .collect();
    let step = 130i32;
    let left = (area.dim_in_pixel().0 as i32 - step * shown.len() as i32) / 2;
    for (k, s) in shown.iter().enumerate() {
        let x = left + step * k as i32;
        area.draw(&Rectangle::new([(x, 12), (x + 14, 24)], s.colour.filled()))
            .map_err(chart_err)?;
        let style =
            TextStyle::from(("sans-serif", 15).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        area.draw(&Text::new(s.name.clone(), (x + 20, 18), style))
            .map_err(chart_err)?;
    }
    Ok(())
}

/// Draws a mesh in the lab's style: `label_px` tick labels, 15 px axis names, light grid lines.
fn draw_mesh<DB>(
    mesh: &mut plotters::chart::MeshStyle<'_, '_, RangedCoordf64, RangedCoordf64, DB>,
    label_px: u32,
) -> anyhow::Result<()>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    mesh.label_style(("sans-serif", label_px))
        .axis_desc_style(("sans-serif", 15))
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .draw()
        .map_err(chart_err)
}

/// A white SVG canvas of `size` pixels at `path`, for every chart of the lab.
fn svg(path: &Path, size: (u32, u32)) -> anyhow::Result<DrawingArea<SVGBackend<'_>, Shift>> {
    let root = SVGBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(chart_err)?;
    Ok(root)
}

/// The lab's chart frame on `area`: `title` in a `caption_px` sans-serif caption, a 12 px margin and
/// 80 px for the y labels. Callers add their x label area and margins, then build the axes.
fn frame<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
    caption_px: u32,
) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(title, ("sans-serif", caption_px))
        .margin(12)
        .y_label_area_size(80);
    builder
}

/// Draws the series' legend at `position`: a bordered, mostly opaque white box.
fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(chart_err)
}

/// A plotters drawing error as an anyhow error.
fn chart_err<E: std::error::Error + Send + Sync + 'static>(
    e: DrawingAreaErrorKind<E>,
) -> anyhow::Error {
    anyhow::anyhow!("drawing the chart: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_charts_have_their_text() {
        let dir = std::env::temp_dir().join(format!("lab-chart-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let series = vec![
            (
                "gotimer".to_string(),
                vec![(1e3, 40.0), (1e4, 41.0), (1e7, 43.0)],
            ),
            (
                "Go".to_string(),
                vec![(1e3, 80.0), (1e4, 95.0), (1e7, 160.0)],
            ),
        ];
        let p = dir.join("line.svg");
        let chart = |title, series, log_y| LineChart {
            title,
            x_label: "pending timers",
            y_label: "ns/op",
            series,
            log_x: true,
            log_y,
        };
        line_charts(&p, &[chart("Title here", &series, false)]).unwrap();
        let svg = std::fs::read_to_string(&p).unwrap();
        for text in [
            "Title here",
            "pending timers",
            "ns/op",
            "gotimer",
            "Go",
            "10k",
            "<polyline",
        ] {
            assert!(svg.contains(text), "{text} missing from the SVG");
        }
        // Two charts in one file, the second on log axes with a zero on its y.
        let zero = vec![(
            "flat".to_string(),
            vec![(1e3, 0.0), (1e4, 0.5), (1e5, 900.0)],
        )];
        let p = dir.join("two.svg");
        line_charts(
            &p,
            &[chart("First", &series, false), chart("Second", &zero, true)],
        )
        .unwrap();
        let svg = std::fs::read_to_string(&p).unwrap();
        for text in ["First", "Second", "flat", "1000", "0.001"] {
            assert!(svg.contains(text), "{text} missing from the SVG");
        }
        line_charts(&dir.join("empty.svg"), &[chart("Empty", &[], false)]).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bar_charts_have_their_text_linear_or_log_with_missing_values() {
        let dir = std::env::temp_dir().join(format!("lab-bars-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let series = |name: &str, i, values| BarSeries {
            name: String::from(name),
            colour: color(i),
            values,
        };
        let linear = Bars {
            title: "Bytes".into(),
            unit: "B per timer".into(),
            log: false,
            show_values: true,
            categories: vec!["gotimer Timer".into(), "Go NewTimer".into()],
            series: vec![
                series("gotimer", 0, vec![Some(120.0), None]),
                series("Go", 1, vec![None, Some(200.0)]),
            ],
        };
        let log = Bars {
            title: "t".into(),
            unit: "ns/op".into(),
            log: true,
            show_values: false,
            categories: vec!["A".into(), "B".into()],
            series: vec![
                series("gotimer", 0, vec![Some(100.0), None]),
                series("go1.27.3", 1, vec![Some(1000.0), Some(5e6)]),
            ],
        };
        let p = dir.join("bars.svg");
        bar_charts(&p, &[linear, log]).unwrap();
        let svg = std::fs::read_to_string(&p).unwrap();
        for text in [
            "<svg",
            "Bytes",
            "B per timer",
            "gotimer Timer",
            "Go NewTimer",
            "120",
            "<rect",
            "gotimer",
            "go1.27.3",
            "ns/op",
            "1k",
        ] {
            assert!(svg.contains(text), "{text} missing from the SVG");
        }
        assert!(svg.lines().any(|l| l.trim() == "B"), "the category B");
        bar_charts(&dir.join("empty.svg"), &[]).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
