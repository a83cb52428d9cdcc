use leptos::prelude::*;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::model::invoices::CostChart;
use crate::model::money::Money;

/// Colours for the projects' stacks (cycled).
const PALETTE: [&str; 8] = [
    "#3b5bdb", "#f08c00", "#2f9e44", "#c2255c", "#1098ad", "#7048e8", "#e8590c", "#5c940d",
];

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 22.0;

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
    let plot_height = HEIGHT - BOTTOM - 8.0;
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
            let label_day = (index % 5 == 0).then(|| {
                view! {
                    <text x=format!("{:.1}", x + bar / 2.0) y=format!("{:.1}", HEIGHT - 6.0) text-anchor="middle">
                        {day.format("%d").to_string()}
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
            .map(|(_, v)| to_f64(*v))
            .fold(0.0, f64::max),
    );
    let month_slot = (WIDTH - LEFT) / 12.0;
    let month_bars = chart
        .months
        .iter()
        .enumerate()
        .map(|(index, (month, value))| {
            let h = to_f64(*value) / max_month * plot_height;
            let x = LEFT + index as f64 * month_slot + month_slot * 0.15;
            let y = HEIGHT - BOTTOM - h;
            let label = format!("{month}: {}", Money::usd(*value).shown());
            let hover = label.clone();
            view! {
                <rect
                    x=format!("{x:.1}")
                    y=format!("{y:.1}")
                    width=format!("{:.1}", month_slot * 0.7)
                    height=format!("{h:.1}")
                    fill=PALETTE[0]
                    on:mouseenter=move |_| readout.set(hover.clone())
                >
                    <title>{label}</title>
                </rect>
                <text x=format!("{:.1}", x + month_slot * 0.35) y=format!("{:.1}", HEIGHT - 6.0) text-anchor="middle">
                    {month.get(5..).unwrap_or_default().to_string()}
                </text>
            }
        })
        .collect_view();
    let axis = |max: f64| {
        view! {
            <line x1=LEFT y1="8" x2=LEFT y2=HEIGHT - BOTTOM class="axis" />
            <line x1=LEFT y1=HEIGHT - BOTTOM x2=WIDTH y2=HEIGHT - BOTTOM class="axis" />
            <text x=LEFT - 6.0 y="14" text-anchor="end">{format!("{max}")}</text>
            <text x=LEFT - 6.0 y=HEIGHT - BOTTOM text-anchor="end">"0"</text>
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
    // Each part is its own AnyView: one nested view type for the whole
    // chart is deeper than the compiler's query limit in release builds.
    let daily = view! {
        <figure class="chart">
            <figcaption>"This month by day, by project (USD)"</figcaption>
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
    .into_any();
    let monthly = view! {
        <figure class="chart">
            <figcaption>"Last 12 months (USD)"</figcaption>
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
    .into_any();
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
                    .map(|(month, value)| {
                        view! {
                            <tr>
                                <th scope="row">{month}</th>
                                <td>{Money::usd(value).grouped()}</td>
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
