//! Server-rendered SVG charts: readable without JavaScript, with axis labels and units (PRODUCT §6).
use leptos::prelude::*;

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Label under the bar (shown for every few bars when there are many).
    pub label: String,
    /// Height, in the chart's unit.
    pub value: f64,
}

/// A money or quantity value as a bar height. Drawing is the only place floats appear: every figure shown as text
/// stays an exact `Decimal`.
pub fn height(d: rust_decimal::Decimal) -> f64 {
    d.to_string().parse().unwrap_or(0.0)
}

fn nice_max(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * magnitude).find(|v| *v >= max).unwrap_or(max)
}

/// How the bars' labels fit under them without overlapping: every `every`-th bar is labelled, and labels too long
/// for their room are turned 40° (the chart then grows by `extra_height` to hold them).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Labels {
    every: usize,
    rotated: bool,
    extra_height: f64,
    /// How far a turned label reaches left of where it is anchored.
    reach: f64,
}

/// About the width of a character of the tick font, in the chart's units.
const CHAR_WIDTH: f64 = 6.0;

/// The longest label drawn, in characters; longer ones end in "…" (the bar's tooltip has the whole name).
const MAX_LABEL: usize = 32;

/// A label as drawn: at most [`MAX_LABEL`] characters.
fn drawn(label: &str) -> String {
    match label.char_indices().nth(MAX_LABEL - 1) {
        Some((cut, _)) => format!("{}…", &label[..cut]),
        None => label.to_string(),
    }
}

impl Labels {
    fn fit(bars: &[Bar], slot: f64) -> Self {
        let chars = bars.iter().map(|b| b.label.chars().count().min(MAX_LABEL)).max().unwrap_or(0);
        let longest = chars as f64 * CHAR_WIDTH;
        // Labelled bars stand at least a label's width (flat) or a line's height (turned) apart. Short labels of a
        // sequence (days) are thinned; names (meters, resources) are all shown, turned when they do not fit flat.
        let flat_every = ((longest + 8.0) / slot).ceil().max(1.0) as usize;
        if flat_every == 1 || chars <= 10 {
            return Self { every: flat_every, rotated: false, extra_height: 0.0, reach: 0.0 };
        }
        let every = (16.0 / slot).ceil().max(1.0) as usize;
        // sin 40° ≈ 0.64 of the length goes down, cos 40° ≈ 0.77 to the left (labels are cut at MAX_LABEL).
        Self { every, rotated: true, extra_height: longest * 0.65, reach: longest * 0.77 }
    }
}

/// An axis or bar value as text: whole numbers when the axis reaches 10 or more, else cents; grouped by thousands.
fn tick(value: f64, max: f64) -> String {
    let places = if max >= 10.0 { 0 } else { 2 };
    let text = format!("{value:.places$}");
    text.parse().map(crate::domain::number::grouped).unwrap_or(text)
}

/// A bar chart. Values are for display only (money stays `Decimal` everywhere else); `unit` labels the y axis.
#[component]
pub fn BarChart(
    /// What the chart shows, for screen readers and as its title.
    title: String,
    /// The y axis' unit, e.g. `USD`.
    unit: String,
    /// The x axis' name, e.g. `Day (UTC)`.
    x_label: String,
    /// The bars, left to right.
    bars: Vec<Bar>,
) -> impl IntoView {
    let (width, top) = (960.0, 12.0);
    let n = bars.len().max(1) as f64;
    let labels = Labels::fit(&bars, (width - 64.0 - 8.0) / n);
    // Turned labels reach left of their bar: the first one must not be cut off.
    let left = if labels.rotated { (labels.reach - (width - 72.0) / n * 0.4).max(64.0) } else { 64.0 };
    let slot = (width - left - 8.0) / n;
    let (height, bottom) = (240.0 + labels.extra_height, 44.0 + labels.extra_height);
    let plot_w = width - left - 8.0;
    let plot_h = height - bottom - top;
    let max = nice_max(bars.iter().map(|b| b.value).fold(0.0, f64::max));
    let every = labels.every;
    let ticks: Vec<f64> = (0..=4).map(|i| max * i as f64 / 4.0).collect();
    view! {
        // Focusable: on a phone the chart keeps a legible size and scrolls sideways (see the stylesheet).
        <figure class="chart" tabindex="0">
            <svg viewBox=format!("0 0 {width} {height}") role="img" aria-label=title.clone() xmlns="http://www.w3.org/2000/svg">
                <title>{title.clone()}</title>
                {ticks.into_iter().map(|t| {
                    let y = top + plot_h - t / max * plot_h;
                    view! {
                        <line x1=left x2=width - 8.0 y1=y y2=y class="grid"/>
                        <text x=left - 6.0 y=y + 4.0 text-anchor="end" class="tick">{tick(t, max)}</text>
                    }
                }).collect_view()}
                {bars.iter().enumerate().map(|(i, b)| {
                    let h = (b.value / max * plot_h).max(0.0);
                    let x = left + i as f64 * slot + slot * 0.1;
                    view! {
                        <rect x=x y=top + plot_h - h width=slot * 0.8 height=h class="bar">
                            <title>{format!("{}: {} {}", b.label, tick(b.value, 1.0), unit)}</title>
                        </rect>
                        {(i % every == 0).then(|| {
                            let (lx, ly) = (x + slot * 0.4, top + plot_h + 14.0);
                            let (anchor, turn) = match labels.rotated {
                                true => ("end", Some(format!("rotate(-40 {lx} {ly})"))),
                                false => ("middle", None),
                            };
                            view! { <text x=lx y=ly text-anchor=anchor transform=turn class="tick">{drawn(&b.label)}</text> }
                        })}
                    }
                }).collect_view()}
                <line x1=left x2=left y1=top y2=top + plot_h class="axis"/>
                <line x1=left x2=width - 8.0 y1=top + plot_h y2=top + plot_h class="axis"/>
                <text x=12 y=top + plot_h / 2.0 transform=format!("rotate(-90 12 {})", top + plot_h / 2.0) text-anchor="middle" class="axis-label">{unit.clone()}</text>
                <text x=left + plot_w / 2.0 y=height - 6.0 text-anchor="middle" class="axis-label">{x_label}</text>
            </svg>
            <figcaption>{title}</figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars(labels: &[String]) -> Vec<Bar> {
        labels.iter().map(|l| Bar { label: l.clone(), value: 1.0 }).collect()
    }

    #[test]
    fn short_labels_stay_flat_and_are_thinned_so_they_never_overlap() {
        let days: Vec<String> = (1..=31).map(|d| format!("10-{d:02}")).collect();
        let slot = 888.0 / 31.0;
        let fit = Labels::fit(&bars(&days), slot);
        assert!(!fit.rotated);
        let room = slot * fit.every as f64;
        assert!(room >= 5.0 * CHAR_WIDTH, "each shown label has its width: {room}");
        assert!(fit.every <= 3, "not thinned more than needed: {}", fit.every);
    }

    #[test]
    fn very_long_names_are_cut_so_the_plot_keeps_its_room() {
        let long = vec!["x".repeat(200); 20];
        let fit = Labels::fit(&bars(&long), 888.0 / 20.0);
        assert!(fit.reach <= MAX_LABEL as f64 * CHAR_WIDTH && fit.extra_height < 130.0, "{fit:?}");
        assert_eq!(drawn(&"é".repeat(40)).chars().count(), MAX_LABEL);
        let dates: Vec<String> = (1..=31).map(|d| format!("2026-10-{d:02}")).collect();
        assert!(!Labels::fit(&bars(&dates), 888.0 / 31.0).rotated, "dates are thinned, not turned");
    }

    #[test]
    fn long_labels_are_turned_and_the_chart_grows_to_hold_them() {
        let vms: Vec<String> = (0..20).map(|i| format!("sql-server-{i:02} · 5b5c0000")).collect();
        let fit = Labels::fit(&bars(&vms), 888.0 / 20.0);
        assert!(fit.rotated && fit.extra_height > 0.0 && fit.every == 1, "{fit:?}");
        let html =
            view! { <BarChart title="t".into() unit="USD".into() x_label="x".into() bars=bars(&vms)/> }.to_html();
        assert_eq!(html.matches("rotate(-40").count(), 20, "every bar named");
    }

    #[test]
    fn axes_end_on_round_numbers_above_the_largest_bar() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.3), 10.0);
        assert_eq!(nice_max(180.0), 200.0);
        assert_eq!(nice_max(0.42), 0.5);
    }
}
