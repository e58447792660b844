//! SVG charts: side-by-side panels of series against the number of frequencies, log–log.
//!
//! Only the SVG backend is built (see docs/dependencies.md: the bitmap backend's fonts need the
//! system fontconfig library), and it needs nothing installed.

use std::path::Path;

use plotters::coord::ranged1d::ValueFormatter;
use plotters::prelude::*;

use crate::error::{CliError, Result};

/// One line of a panel: a name for the legend and its (x, y) points.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend entry.
    pub name: String,
    /// Points, x increasing; points with a y ≤ 0 or non-finite are left out (log axis).
    pub points: Vec<(f64, f64)>,
}

/// One chart: a title, axis labels and its series.
#[derive(Debug, Clone)]
pub struct Panel {
    /// Caption above the chart.
    pub title: String,
    /// Label of the horizontal axis.
    pub x_label: String,
    /// Label of the vertical axis.
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
}

const COLOURS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];

/// Draws `panels` side by side into the SVG file `path`.
pub fn draw_panels(path: &Path, panels: &[Panel]) -> Result<()> {
    let plot_error = |e: &dyn std::fmt::Display| {
        CliError::io(
            path,
            std::io::Error::other(format!("cannot draw the plot: {e}")),
        )
    };
    let width = 520 * panels.len().max(1) as u32;
    let root = SVGBackend::new(path, (width, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(&e))?;
    let areas = root.split_evenly((1, panels.len().max(1)));
    for (panel, area) in panels.iter().zip(&areas) {
        draw_panel(area, panel).map_err(|e| plot_error(&e))?;
    }
    root.present().map_err(|e| plot_error(&e))?;
    Ok(())
}

type DrawResult<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    panel: &Panel,
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    let points = || {
        panel
            .series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|(x, y)| x.is_finite() && *x > 0.0 && y.is_finite() && *y > 0.0)
    };
    let (x_lo, x_hi) = bounds(points().map(|p| p.0));
    let (y_lo, y_hi) = bounds(points().map(|p| p.1));
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(
            (x_lo / 1.3..x_hi * 1.3).log_scale(),
            (y_lo / 1.5..y_hi * 1.5).log_scale(),
        )?;
    configure_mesh(&mut chart, panel)?;
    for (i, series) in panel.series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let line: Vec<(f64, f64)> = series
            .points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && *x > 0.0 && y.is_finite() && *y > 0.0)
            .collect();
        chart
            .draw_series(LineSeries::new(
                line.iter().copied(),
                colour.stroke_width(2),
            ))?
            .label(series.name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
        chart.draw_series(line.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(legend_corner(panel))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

fn configure_mesh<DB, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    panel: &Panel,
) -> DrawResult<()>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc(panel.x_label.as_str())
        .y_desc(panel.y_label.as_str())
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.2e}"))
        .draw()?;
    Ok(())
}

/// Upper right for falling series (an error), upper left for rising ones (a time), so the legend
/// sits where the lines are not.
fn legend_corner(panel: &Panel) -> SeriesLabelPosition {
    let first = panel
        .series
        .first()
        .map(|s| s.points.as_slice())
        .unwrap_or_default();
    match (first.first(), first.last()) {
        (Some(a), Some(b)) if b.1 > a.1 => SeriesLabelPosition::UpperLeft,
        _ => SeriesLabelPosition::UpperRight,
    }
}

/// The smallest and largest value, or (1, 10) when there is none (an empty chart still draws).
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo.is_finite() && hi.is_finite() {
        (lo, hi)
    } else {
        (1.0, 10.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_two_panel_svg() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plot.svg");
        let series = |name: &str, k: f64| Series {
            name: name.into(),
            points: [256.0, 1024.0, 4096.0]
                .iter()
                .map(|&n| (n, k / f64::sqrt(n)))
                .collect(),
        };
        let panel = |title: &str| Panel {
            title: title.into(),
            x_label: "frequencies n".into(),
            y_label: "value".into(),
            series: vec![series("dense", 1.0), series("fastfood", 1.2)],
        };
        draw_panels(&path, &[panel("error"), panel("time")]).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("fastfood") && svg.contains("dense"));
        // Two series per panel, each drawn as a line and as a legend sample.
        let thick = svg
            .lines()
            .filter(|l| l.starts_with("<polyline") && l.contains("stroke-width=\"2\""));
        assert_eq!(thick.count(), 2 * (2 + 2));
    }

    #[test]
    fn an_unwritable_path_is_an_error() {
        let panel = Panel {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            series: vec![],
        };
        let result = draw_panels(Path::new("/nonexistent-dir/plot.svg"), &[panel]);
        assert!(matches!(result, Err(CliError::Io { .. })));
    }
}
