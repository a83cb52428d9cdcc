use leptos::prelude::*;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::model::invoices::{CostChart, MonthBar};
use crate::model::money::Money;

/// Colours for the projects' stacks (cycled).
const PALETTE: [&str; 8] = [
    "#3b5bdb", "#f08c00", "#2f9e44", "#c2255c", "#1098ad", "#7048e8", "#e8590c", "#5c940d",
];

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 64.0;
const BOTTOM: f64 = 30.0;
/// Room above the plot for the top tick's label at a phone's text size.
const TOP: f64 = 18.0;

fn to_f64(value: Decimal) -> f64 {
    value.to_f64().unwrap_or(0.0)
}

/// A rounded axis maximum (1, 2 or 5 × a power of ten) at or above `max`.
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|v| *v >= max)
        .unwrap_or(10.0 * magnitude)
}

/// The values the axis marks, 0 and `max` included: steps of 0.2, 0.5 or 1
/// times `max`'s power of ten, so four or five lines cross the plot.
fn ticks(max: f64) -> Vec<f64> {
    let magnitude = 10f64.powf(max.log10().floor());
    let lead = (max / magnitude).round();
    let step = match lead as i64 {
        2 => 0.5,
        5 | 10 => 1.0,
        _ => 0.2,
    } * magnitude;
    let count = (max / step).round() as usize;
    (0..=count).map(|i| i as f64 * step).collect()
}

/// An axis value, short enough for a phone: 0.4, 25, 800, 1.5k, 20k.
fn tick_label(value: f64) -> String {
    let short = |v: f64| {
        let text = format!("{:.2}", (v * 100.0).round() / 100.0);
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    if value >= 1000.0 {
        format!("{}k", short(value / 1000.0))
    } else {
        short(value)
    }
}

/// The Overview's cost chart: this month by day stacked by project, and the
/// last 12 months. SVG drawn on the server (readable without JavaScript),
/// each bar titled; a table carries the same figures for screen readers;
/// after hydration, pointing at a bar shows its figures beside the chart.
/// Money is USD (the engine's currency); the float only places pixels.
#[component]
pub fn CostChartView(chart: CostChart) -> AnyView {
    let readout = RwSignal::new(String::new());
    let day_totals: Vec<Decimal> = chart
        .days
        .iter()
        .map(|(_, values)| values.iter().copied().sum())
        .collect();
    let max_day = nice_max(day_totals.iter().copied().map(to_f64).fold(0.0, f64::max));
    let plot_height = HEIGHT - BOTTOM - TOP;
    let slot = (WIDTH - LEFT) / chart.days.len().max(1) as f64;
    let bar = (slot * 0.75).max(1.0);
    let projects = chart.projects.clone();
    let day_bars = chart
        .days
        .iter()
        .enumerate()
        .map(|(index, (day, values))| {
            let x = LEFT + index as f64 * slot + (slot - bar) / 2.0;
            let mut y = HEIGHT - BOTTOM;
            let total: Decimal = values.iter().copied().sum();
            let summary = format!("{day}: {}", Money::usd(total).shown());
            let segments = values
                .iter()
                .enumerate()
                .filter(|(_, v)| !v.is_zero())
                .map(|(p, value)| {
                    let h = to_f64(*value) / max_day * plot_height;
                    y -= h;
                    let label = format!("{day} · {}: {}", projects[p], Money::usd(*value).shown());
                    let hover = label.clone();
                    view! {
                        <rect
                            x=format!("{x:.1}")
                            y=format!("{y:.1}")
                            width=format!("{bar:.1}")
                            height=format!("{h:.1}")
                            fill=PALETTE[p % PALETTE.len()]
                            on:mouseenter=move |_| readout.set(hover.clone())
                        >
                            <title>{label}</title>
                        </rect>
                    }
                })
                .collect_view();
            // Day numbers every five days; the first also names the month.
            let label_day = (index % 5 == 0).then(|| {
                let (text, anchor, at) = if index == 0 {
                    (day.format("%-d %b").to_string(), "start", x)
                } else {
                    (day.format("%-d").to_string(), "middle", x + bar / 2.0)
                };
                view! {
                    <text x=format!("{at:.1}") y=format!("{:.1}", HEIGHT - 6.0) text-anchor=anchor>
                        {text}
                    </text>
                }
            });
            view! {
                <g on:mouseenter=move |_| readout.set(summary.clone())>{segments}</g>
                {label_day}
            }
        })
        .collect_view();
    let max_month = nice_max(
        chart
            .months
            .iter()
            .filter_map(|(_, bar)| bar.usd())
            .map(to_f64)
            .fold(0.0, f64::max),
    );
    let month_slot = (WIDTH - LEFT) / chart.months.len().max(1) as f64;
    let month_bars = chart
        .months
        .iter()
        .enumerate()
        .map(|(index, (month, bar))| {
            let x = LEFT + index as f64 * month_slot + month_slot * 0.15;
            let width = format!("{:.1}", month_slot * 0.7);
            let shape = match bar {
                MonthBar::Invoiced(usd) | MonthBar::Running(usd) => {
                    let h = to_f64(*usd) / max_month * plot_height;
                    let label = match bar {
                        MonthBar::Running(_) => format!("{month} (running month, estimate): {}", Money::usd(*usd).shown()),
                        _ => format!("{month}: {}", Money::usd(*usd).shown()),
                    };
                    let hover = label.clone();
                    let class = matches!(bar, MonthBar::Running(_)).then_some("running");
                    view! {
                        <rect
                            class=class
                            x=format!("{x:.1}")
                            y=format!("{:.1}", HEIGHT - BOTTOM - h)
                            width=width
                            height=format!("{h:.1}")
                            fill=PALETTE[0]
                            on:mouseenter=move |_| readout.set(hover.clone())
                        >
                            <title>{label}</title>
                        </rect>
                    }
                    .into_any()
                }
                MonthBar::NotInvoiced => {
                    let label = format!("{month}: not invoiced yet (its month close has not run)");
                    let hover = label.clone();
                    view! {
                        <rect
                            class="not-invoiced"
                            x=format!("{x:.1}")
                            y=TOP
                            width=width
                            height=format!("{plot_height:.1}")
                            on:mouseenter=move |_| readout.set(hover.clone())
                        >
                            <title>{label}</title>
                        </rect>
                    }
                    .into_any()
                }
                MonthBar::BeforeGroup => ().into_any(),
            };
            let name = month_name(month);
            view! {
                {shape}
                <text x=format!("{:.1}", x + month_slot * 0.35) y=format!("{:.1}", HEIGHT - 6.0) text-anchor="middle">
                    {name}
                </text>
            }
        })
        .collect_view();
    let axis = |max: f64| {
        let marks = ticks(max)
            .into_iter()
            .map(|value| {
                let y = HEIGHT - BOTTOM - value / max * plot_height;
                view! {
                    <line x1=LEFT y1=format!("{y:.1}") x2=WIDTH y2=format!("{y:.1}") class="grid" />
                    <text x=LEFT - 6.0 y=format!("{:.1}", y + 4.0) text-anchor="end">{tick_label(value)}</text>
                }
            })
            .collect_view();
        view! {
            {marks}
            <line x1=LEFT y1=TOP x2=LEFT y2=HEIGHT - BOTTOM class="axis" />
            <line x1=LEFT y1=HEIGHT - BOTTOM x2=WIDTH y2=HEIGHT - BOTTOM class="axis" />
        }
    };
    let legend = chart
        .projects
        .iter()
        .enumerate()
        .map(|(i, p)| {
            view! {
                <li>
                    // An SVG fill, not a style attribute: the CSP allows no inline styles.
                    <svg class="swatch" viewBox="0 0 10 10" aria-hidden="true">
                        <rect width="10" height="10" rx="2" fill=PALETTE[i % PALETTE.len()] />
                    </svg>
                    {p.clone()}
                </li>
            }
        })
        .collect_view();
    let month_rows = chart.months.clone();
    let this_month = chart
        .days
        .first()
        .map(|(day, _)| day.format("%B %Y").to_string())
        .unwrap_or_else(|| "This month".into());
    let no_costs = day_totals.iter().all(|total| total.is_zero());
    let no_months = chart
        .months
        .iter()
        .all(|(_, bar)| bar.usd().is_none_or(|usd| usd.is_zero()));
    // Each part is its own AnyView: one nested view type for the whole
    // chart is deeper than the compiler's query limit in release builds.
    let daily = if no_costs {
        view! {
            <figure class="chart">
                <figcaption>{format!("{this_month} by day, by project (USD, before credits)")}</figcaption>
                <p class="chart-empty">"No costs yet this month: the days fill in as services run."</p>
            </figure>
        }
        .into_any()
    } else {
        view! {
        <figure class="chart">
            <figcaption>{format!("{this_month} by day, by project (USD, before credits)")}</figcaption>
            <svg
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                role="img"
                aria-label="Cost this month by day, stacked by project; the same figures are in the table below"
            >
                {axis(max_day).into_any()}
                {day_bars.into_any()}
            </svg>
            <ul class="legend">{legend}</ul>
        </figure>
        }
        .into_any()
    };
    let monthly = if no_months {
        view! {
            <figure class="chart">
                <figcaption>"Last 12 months (USD)"</figcaption>
                <p class="chart-empty">"No invoiced months yet."</p>
            </figure>
        }
        .into_any()
    } else {
        view! {
        <figure class="chart">
            <figcaption>
                "Last 12 months (USD, before VAT, after credits; the running month is an estimate"
                {chart.months.iter().any(|(_, bar)| *bar == MonthBar::NotInvoiced).then_some(", an outlined month is not invoiced yet")}
                ")"
            </figcaption>
            <svg
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                role="img"
                aria-label="Cost per month for the last 12 months; the same figures are in the table below"
            >
                {axis(max_month).into_any()}
                {month_bars.into_any()}
            </svg>
        </figure>
        }
        .into_any()
    };
    let day_table = view! {
        <div class="visually-hidden"><table aria-label="Cost by day and project (USD)">
            <thead>
                <tr>
                    <th scope="col">"Day"</th>
                    {chart.projects.iter().map(|p| view! { <th scope="col">{p.clone()}</th> }).collect_view()}
                </tr>
            </thead>
            <tbody>
                {chart
                    .days
                    .iter()
                    .map(|(day, values)| {
                        view! {
                            <tr>
                                <th scope="row">{day.to_string()}</th>
                                {values.iter().map(|v| view! { <td>{Money::usd(*v).grouped()}</td> }).collect_view()}
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table></div>
    }
    .into_any();
    let month_table = view! {
        <div class="visually-hidden"><table aria-label="Cost by month (USD)">
            <tbody>
                {month_rows
                    .into_iter()
                    .map(|(month, bar)| {
                        let value = match bar {
                            MonthBar::Invoiced(usd) => Money::usd(usd).grouped(),
                            MonthBar::Running(usd) => format!("{} (estimate)", Money::usd(usd).grouped()),
                            MonthBar::NotInvoiced => "not invoiced yet".into(),
                            MonthBar::BeforeGroup => "before the group".into(),
                        };
                        view! {
                            <tr>
                                <th scope="row">{month}</th>
                                <td>{value}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table></div>
    }
    .into_any();
    view! {
        {daily}
        {monthly}
        <p class="chart-readout" aria-live="polite">{move || readout.get()}</p>
        {day_table}
        {month_table}
    }
    .into_any()
}

/// "2026-01" → "Jan", "2026-12" → "Dec" (the caption and the table keep the year).
fn month_name(month: &str) -> String {
    chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .map(|date| date.format("%b").to_string())
        .unwrap_or_else(|_| month.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_marks_round_steps_up_to_its_maximum() {
        let labels = |max: f64| ticks(max).into_iter().map(tick_label).collect::<Vec<_>>();
        assert_eq!(labels(1.0), ["0", "0.2", "0.4", "0.6", "0.8", "1"]);
        assert_eq!(labels(200.0), ["0", "50", "100", "150", "200"]);
        assert_eq!(labels(5000.0), ["0", "1k", "2k", "3k", "4k", "5k"]);
        assert_eq!(labels(nice_max(0.0)).len(), 6);
        assert_eq!(tick_label(1500.0), "1.5k");
        assert_eq!(tick_label(20000.0), "20k");
        assert_eq!(month_name("2026-12"), "Dec");
    }
}
