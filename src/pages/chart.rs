//! Charts as inline SVG, drawn with `plotters` (SVG backend; text measured with the
//! embedded DejaVu Sans, which covers Latin and Cyrillic). Every chart is drawn from the
//! same rows as the table beside it and the CSV of that table. Plotters puts no ids on its
//! elements: the page's `<figure>` carries the chart's name and the count of its points.
//!
//! Geometry is floating point; the numbers people read stay exact in the tables.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

/// DejaVu Sans (Bitstream Vera licence, see `assets/fonts/DejaVuSans.LICENSE`).
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

fn font_ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok())
}

/// A drawn chart and how many data points it shows.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    pub svg: String,
    pub points: usize,
}

/// One bar of a ranked bar chart.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    /// `None`: no data (drawn as an empty row with the word).
    pub value: Option<f64>,
    pub colour: RGBColor,
    /// Written at the bar's end (the value and its band in words).
    pub note: String,
}

/// A line of a line chart.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub colour: RGBColor,
    /// (x, y); a gap where y is `None`.
    pub points: Vec<(f64, Option<f64>)>,
    /// Drawn as steps (a balance holds until the next movement).
    pub steps: bool,
}

/// The colour-blind-safe palette (Okabe–Ito) for lines.
pub const LINE_COLOURS: [RGBColor; 4] = [RGBColor(0, 114, 178), RGBColor(213, 94, 0), RGBColor(0, 158, 115), RGBColor(204, 121, 167)];

type DrawResult<T> = Result<T, String>;

fn draw(width: u32, height: u32, f: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> DrawResult<()>) -> String {
    if !font_ready() {
        tracing::error!("the chart font could not be loaded");
        return String::new();
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let drawn = root.fill(&WHITE).map_err(|e| e.to_string()).and_then(|_| f(&root)).and_then(|_| root.present().map_err(|e| e.to_string()));
        if let Err(e) = drawn {
            tracing::error!(error = %e, "a chart could not be drawn");
        }
    }
    svg
}

/// Horizontal bars, one per item, in the order given (rank them first).
pub fn ranked_bars(x_desc: &str, items: &[Bar], no_data: &str) -> Chart {
    let n = items.len().max(1);
    let max = items.iter().filter_map(|b| b.value).fold(0f64, f64::max);
    let max = if max > 0.0 { max * 1.35 } else { 1.0 };
    let height = 60 + 26 * n as u32;
    let labels: Vec<String> = items.iter().map(|b| b.label.clone()).collect();
    let svg = draw(760, height, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(8)
            .x_label_area_size(36)
            .y_label_area_size(190)
            .build_cartesian_2d(0f64..max, (0..n).into_segmented())
            .map_err(|e| e.to_string())?;
        let label_of = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&label_of)
            .x_desc(x_desc)
            .label_style((FAMILY, 13))
            .axis_desc_style((FAMILY, 13))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(items.iter().enumerate().filter_map(|(i, b)| {
                let v = b.value?;
                let mut bar = Rectangle::new([(0.0, SegmentValue::Exact(i)), (v, SegmentValue::Exact(i + 1))], b.colour.filled());
                bar.set_margin(4, 4, 0, 0);
                Some(bar)
            }))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(items.iter().enumerate().map(|(i, b)| {
                let at = b.value.unwrap_or(0.0);
                let text = if b.value.is_some() { b.note.clone() } else { no_data.to_owned() };
                Text::new(format!(" {text}"), (at, SegmentValue::CenterOf(i)), (FAMILY, 12).into_font().color(&BLACK))
            }))
            .map_err(|e| e.to_string())?;
        Ok(())
    });
    Chart { svg, points: items.iter().filter(|b| b.value.is_some()).count() }
}

/// Lines over a numeric x axis labelled by `x_label`.
pub fn lines(y_desc: &str, series: &[Series], x_label: &dyn Fn(f64) -> String) -> Chart {
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let (min_x, max_x) = xs.fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let (min_x, max_x) = if min_x > max_x {
        (0.0, 1.0)
    } else if min_x == max_x {
        (min_x - 1.0, max_x + 1.0)
    } else {
        (min_x, max_x)
    };
    let max_y = series.iter().flat_map(|s| s.points.iter().filter_map(|p| p.1)).fold(0f64, f64::max);
    let max_y = if max_y > 0.0 { max_y * 1.15 } else { 1.0 };
    let svg = draw(760, 320, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(10)
            // Room for the last date label, centred on the right edge.
            .margin_right(40)
            .x_label_area_size(36)
            .y_label_area_size(70)
            .build_cartesian_2d(min_x..max_x, 0f64..max_y)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_labels(8)
            .x_label_formatter(&|x| x_label(*x))
            .y_desc(y_desc)
            .label_style((FAMILY, 12))
            .axis_desc_style((FAMILY, 13))
            .draw()
            .map_err(|e| e.to_string())?;
        for s in series {
            for run in runs(&s.points) {
                let run = if s.steps { stepped(&run) } else { run };
                let colour = s.colour;
                chart
                    .draw_series(LineSeries::new(run.clone(), colour.stroke_width(2)))
                    .map_err(|e| e.to_string())?
                    .label(s.name.clone())
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(3)));
                if !s.steps {
                    chart.draw_series(run.iter().map(|p| Circle::new(*p, 3, colour.filled()))).map_err(|e| e.to_string())?;
                }
            }
        }
        chart
            .configure_series_labels()
            .label_font((FAMILY, 12))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|e| e.to_string())?;
        Ok(())
    });
    Chart { svg, points: series.iter().map(|s| s.points.iter().filter(|p| p.1.is_some()).count()).sum() }
}

/// The runs of consecutive points with a value.
fn runs(points: &[(f64, Option<f64>)]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for (x, y) in points {
        match y {
            Some(y) => out.last_mut().map(|r| r.push((*x, *y))).unwrap_or_default(),
            None if out.last().is_some_and(|r| !r.is_empty()) => out.push(Vec::new()),
            None => {}
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

/// A value holds until the next point: (x0,y0) (x1,y0) (x1,y1) …
fn stepped(run: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(run.len() * 2);
    for (i, p) in run.iter().enumerate() {
        if i > 0 {
            out.push((p.0, run[i - 1].1));
        }
        out.push(*p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_draw_one_rectangle_per_value_and_the_no_data_word() {
        let items = vec![
            Bar { label: "Алматы".into(), value: Some(120.5), colour: RGBColor(0, 32, 77), note: "120.5 low".into() },
            Bar { label: "Astana".into(), value: None, colour: RGBColor(0, 0, 0), note: String::new() },
        ];
        let chart = ranked_bars("S-DDD", &items, "no data");
        assert_eq!(chart.points, 1);
        assert!(chart.svg.starts_with("<svg"), "{}", &chart.svg[..100.min(chart.svg.len())]);
        assert!(chart.svg.contains("Алматы") && chart.svg.contains("no data") && chart.svg.contains("120.5 low"));
        assert!(!chart.svg.contains("style="), "inline styles break the CSP");
    }

    #[test]
    fn steps_hold_a_value_until_the_next_point_and_gaps_split_lines() {
        assert_eq!(stepped(&[(0.0, 5.0), (2.0, 3.0)]), vec![(0.0, 5.0), (2.0, 5.0), (2.0, 3.0)]);
        assert_eq!(runs(&[(0.0, Some(1.0)), (1.0, None), (2.0, Some(2.0))]).len(), 2);
        let chart = lines(
            "mg",
            &[Series { name: "a".into(), colour: LINE_COLOURS[0], points: vec![(0.0, Some(1.0)), (1.0, Some(2.0))], steps: false }],
            &|x| format!("{x}"),
        );
        assert_eq!(chart.points, 2);
        assert!(chart.svg.contains("<polyline") || chart.svg.contains("<path"));
    }
}
