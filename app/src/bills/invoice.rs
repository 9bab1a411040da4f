//! `/bills/:period/:subscription/invoice`: the bill as the customer sees it, ready to print or save as PDF. The
//! partner's name, address and tax ID and the customer's; the invoice number (given when the bill is finalised,
//! unique per partner), the issue date and the period; the lines at the customer's price and their total. Never
//! the partner's cost or margin. A bill that is not final is marked as a draft, without a number.
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Bill, BillLine, BillStatus, LineType};
use crate::domain::money::cents;
use crate::domain::when::long_day;
use crate::partners::details::PartnerDetails;
use crate::AppError;

/// What the invoice prints, and nothing more: built on the server from the bill, so the page (and the data it
/// hydrates from) never carries the partner's cost or margin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    /// The partner's details: as they were when the bill was finalised, else as saved now (its settings page).
    pub partner: PartnerDetails,
    /// The customer's name.
    pub customer_name: String,
    /// The customer's Azure subscription billed.
    pub subscription_id: uuid::Uuid,
    /// `YYYY-MM`.
    pub period: crate::domain::Period,
    /// Whether the bill is final (a draft has no number and may change).
    pub is_final: bool,
    /// Given when the bill was finalised.
    pub number: Option<String>,
    /// The day it was finalised (UTC).
    pub issued: Option<time::Date>,
    /// The lines at the customer's price.
    pub lines: Vec<InvoiceLine>,
    /// The sum of the lines.
    pub total: Decimal,
    /// ISO 4217.
    pub currency: String,
}

/// One line at the customer's price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    /// Meter and stack (and the month of late usage, for an adjustment).
    pub description: String,
    /// In the unit below.
    pub quantity: Decimal,
    /// The meter's unit.
    pub unit: String,
    /// The list price with the bill's markup, to at most six decimals.
    pub unit_price: Decimal,
    /// The line's customer price (rounded toward zero to the cent).
    pub amount: Decimal,
}

impl Invoice {
    /// The customer's view of `bill`.
    pub fn of(bill: &Bill, partner: PartnerDetails) -> Self {
        let markup = Decimal::ONE + bill.markup_percent / Decimal::ONE_HUNDRED;
        Self {
            partner,
            customer_name: bill.customer_name.clone(),
            subscription_id: bill.subscription_id,
            period: bill.period,
            is_final: bill.status == BillStatus::Final,
            number: bill.invoice_number.clone(),
            issued: bill.finalized_at.map(|t| t.to_offset(time::UtcOffset::UTC).date()),
            lines: bill
                .lines
                .iter()
                .map(|l| InvoiceLine {
                    description: description(l),
                    quantity: l.quantity,
                    unit: l.unit.clone(),
                    unit_price: (l.unit_price * markup).round_dp(6).normalize(),
                    amount: l.customer_price,
                })
                .collect(),
            total: bill.total_customer_price,
            currency: bill.currency.clone(),
        }
    }
}

/// The invoice of a bill in the caller's scope.
#[server]
pub async fn load_invoice(period: String, subscription: String) -> Result<Invoice, AppError> {
    let scope = crate::web::caller::Caller::of_page().await?.scope;
    let mut conn = crate::db::pool()?.acquire().await?;
    let bill = super::page::bill_in_scope(&mut conn, scope, &period, &subscription).await?;
    // As issued, once final; a draft shows the details as they are now.
    let partner = match bill.issuer.clone() {
        Some(issued) => issued,
        None => crate::partners::db::details(&mut *conn, bill.partner_id).await?,
    };
    Ok(Invoice::of(&bill, partner))
}

/// `/bills/:period/:subscription/invoice`
#[component]
pub fn InvoicePage() -> impl IntoView {
    let params = use_params_map();
    let data = Resource::new(
        move || {
            let p = params.read();
            (p.get("period").unwrap_or_default(), p.get("subscription").unwrap_or_default())
        },
        |(period, subscription)| load_invoice(period, subscription),
    );
    view! { {crate::layout::loaded(data, |i| view! { <InvoiceView i=i/> })} }
}

fn description(l: &BillLine) -> String {
    match l.line_type {
        LineType::Usage => format!("{} · {}", l.meter_name, l.stack_name),
        LineType::Adjustment => format!("{} · {} (late usage of {})", l.meter_name, l.stack_name, l.charge_period),
    }
}

#[component]
fn InvoiceView(i: Invoice) -> impl IntoView {
    let p = i.partner.clone();
    let back = super::forms::BILL_PAGE.at(&[&i.period, &i.subscription_id]);
    let cur = i.currency.clone();
    let (start, end) = (i.period.start(), i.period.end());
    view! {
        <p class="actions"><a href=back>"Back to the bill"</a> " · " "Print or save as PDF with your browser's Print (Ctrl+P)."</p>
        <article class="invoice" aria-label="Invoice">
            {(!i.is_final).then(|| view! {
                <p class="notice draft" data-testid="invoice-draft">"Draft: this bill is not final. It gets its invoice number when it is finalised, and its amounts may still change."</p>
            })}
            <header class="invoice-head">
                <div class="from">
                    <strong>{p.name.clone()}</strong>
                    {p.address.lines().map(|l| view! { <br/>{l.to_string()} }).collect_view()}
                    {(!p.tax_id.is_empty()).then(|| view! { <br/>{format!("Tax ID {}", p.tax_id)} })}
                </div>
                <div class="meta">
                    <h1>"Invoice"</h1>
                    <dl class="facts">
                        <dt>"Invoice number"</dt><dd data-testid="invoice-number">{i.number.clone().unwrap_or_else(|| "—".into())}</dd>
                        <dt>"Issue date"</dt><dd>{i.issued.map_or_else(|| "—".into(), crate::domain::when::long_day)}</dd>
                        <dt>"Period (UTC)"</dt><dd>{format!("{} to {}", long_day(start), long_day(end))}</dd>
                    </dl>
                </div>
            </header>
            <section class="to" aria-label="Bill to">
                <h2>"Bill to"</h2>
                <p><strong>{i.customer_name.clone()}</strong><br/>
                <span class="hint">"Azure subscription "</span><span class="mono">{i.subscription_id.to_string()}</span></p>
            </section>
            <table class="invoice-lines" aria-label="Invoice lines">
                <thead><tr>
                    <th scope="col">"Description"</th><th scope="col" class="num">"Quantity"</th><th scope="col" class="unit">"Unit"</th>
                    <th scope="col" class="num unit-price">{format!("Unit price ({cur})")}</th><th scope="col" class="num">{format!("Amount ({cur})")}</th>
                </tr></thead>
                <tbody>{i.lines.iter().map(|l| view! {
                    <tr>
                        <td>{l.description.clone()}</td>
                        <td class="num">
                            {crate::domain::number::quantity(l.quantity, 6)}
                            <span class="unit-inline">{format!(" {}", l.unit)}</span>
                        </td>
                        <td class="unit">{l.unit.clone()}</td>
                        <td class="num unit-price">{crate::domain::number::grouped(l.unit_price)}</td>
                        <td class="num">{cents(l.amount)}</td>
                    </tr>
                }).collect_view()}</tbody>
                // The label spans the columns a narrow screen hides too, cell for cell, so the total stays under the amounts.
                <tfoot><tr>
                    <th scope="row" colspan="2">{format!("Total ({cur})")}</th><td class="unit"></td><td class="unit-price"></td>
                    <td class="num total" data-testid="invoice-total">{cents(i.total)}</td>
                </tr></tfoot>
            </table>
            {i.lines.is_empty().then(|| view! { <p class="empty">"No charged usage in this period."</p> })}
            <p class="hint">{format!(
                "Azure Stack Hub usage of {}, in {}, at {}'s prices. Each line is rounded toward zero to the cent; the total is the sum of the lines.",
                crate::domain::when::month(i.period), cur, p.name
            )}</p>
        </article>
    }
}
