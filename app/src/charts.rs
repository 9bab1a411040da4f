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
    let (width, height, left, bottom, top) = (720.0, 240.0, 64.0, 44.0, 12.0);
    let plot_w = width - left - 8.0;
    let plot_h = height - bottom - top;
    let max = nice_max(bars.iter().map(|b| b.value).fold(0.0, f64::max));
    let n = bars.len().max(1) as f64;
    let slot = plot_w / n;
    let every = (bars.len() / 12).max(1);
    let ticks: Vec<f64> = (0..=4).map(|i| max * i as f64 / 4.0).collect();
    view! {
        <figure class="chart">
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
                        {(i % every == 0).then(|| view! {
                            <text x=x + slot * 0.4 y=top + plot_h + 14.0 text-anchor="middle" class="tick">{b.label.clone()}</text>
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
    #[test]
    fn axes_end_on_round_numbers_above_the_largest_bar() {
        assert_eq!(super::nice_max(0.0), 1.0);
        assert_eq!(super::nice_max(7.3), 10.0);
        assert_eq!(super::nice_max(180.0), 200.0);
        assert_eq!(super::nice_max(0.42), 0.5);
    }
}
