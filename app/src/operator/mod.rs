//! The operator's page: partners and the commerce directory (import, search, status changes).
pub mod forms;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::customers::CustomerSub;
use crate::directory::forms::{StatusForm, IMPORT_DIRECTORY, SET_STATUS};
use crate::domain::when::day;
use crate::domain::SubscriptionStatus;
use crate::paging::{current_query, with_page, Paged, Pager};
use crate::partners::forms::{PartnerForm, ADD_PARTNER};
use crate::pricing::forms::{IMPORT_METER_MAP, IMPORT_PRICES};
use crate::pricing::{MeterMapEntry, PriceEntry};
use crate::sorting::{ListAt, SortHeader};
use crate::stacks::PartnerSummary;
use crate::web::form::FILE_FIELD;
use crate::web::Flash;
use crate::AppError;

/// The page's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorData {
    /// A page of the partners.
    pub partners: Paged<PartnerSummary>,
    /// A page of the directory entries matching the search.
    pub directory: Paged<CustomerSub>,
    /// A page of the price list entries, newest first per meter.
    pub prices: Paged<PriceEntry>,
    /// A page of the meter map.
    pub meter_map: Paged<MeterMapEntry>,
    /// The last form's outcome.
    pub flash: Option<Flash>,
    /// Stacks waiting to be re-rated (the progress of the last import's re-rating).
    pub rerating: i64,
}

/// The page and order of each of the operator page's lists (`?partners_page=&partners_sort=&directory_page=…`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorPages {
    /// The partners (a bad page number is refused by name).
    pub partners: ListAt,
    /// Directory entries.
    pub directory: ListAt,
    /// Price list entries.
    pub prices: ListAt,
    /// Meter map entries.
    pub meters: ListAt,
}

/// Rows per page of the operator page's lists.
pub const OPERATOR_PAGE_SIZE: i64 = 100;

/// Partners, directory entries, prices and the meter map, a page of each; operators only.
#[server]
pub async fn load_operator(search: String, pages: OperatorPages) -> Result<OperatorData, AppError> {
    use crate::paging::PageOf;
    let session = crate::web::caller::Caller::of_page().await?.must_operate()?.session;
    let pool = crate::db::pool()?;
    let page = |list: List, at: &ListAt| PageOf::new(list.page_name(), at.page, OPERATOR_PAGE_SIZE);
    let (p, d) = (&pages.partners, &pages.directory);
    let partners = crate::stacks::db::list_partners(&pool, page(List::Partners, p)?, &p.order).await?;
    let directory = crate::directory::db::search(&pool, &search, page(List::Directory, d)?, &d.order).await?;
    let (p, m) = (&pages.prices, &pages.meters);
    let prices = crate::pricing::db::price_page(&pool, page(List::Prices, p)?, &p.order).await?;
    let meter_map = crate::pricing::db::meter_map_page(&pool, page(List::Meters, m)?, &m.order).await?;
    let flash = session.take_flash().await?;
    let rerating = crate::charges::db::queued_all(&pool).await?;
    Ok(OperatorData { partners, directory, prices, meter_map, flash, rerating })
}

/// `/operator?q=…`
#[component]
pub fn OperatorPage() -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("q").unwrap_or_default();
    let pages = move || {
        let q = crate::paging::pairs(query.get());
        OperatorPages {
            partners: List::Partners.at(&q),
            directory: List::Directory.at(&q),
            prices: List::Prices.at(&q),
            meters: List::Meters.at(&q),
        }
    };
    let data = Resource::new(move || (search(), pages()), |(s, p)| load_operator(s, p));
    view! {
        <h1>"Operator"</h1>
        {crate::layout::loaded(data, move |d| view! { <Operator data=d search=search()/> })}
    }
}

#[component]
fn Operator(data: OperatorData, search: String) -> impl IntoView {
    let query = current_query();
    let pager = move |list: List| {
        let query = query.clone();
        move |n: i64| with_page("/operator", &query, list.page_name(), n)
    };
    let (directory, prices, meters, partners) = (data.directory, data.prices, data.meter_map, data.partners);
    view! {
        {crate::layout::notice(&data.flash, crate::web::FormId::Operator)}
        <section class="card">
            <h2>"Commerce directory"</h2>
            <form method="post" action=IMPORT_DIRECTORY.pattern() enctype="multipart/form-data" class="stacked" aria-label="Import the directory">
                <label>
                    "CSV or JSON file"
                    <span class="hint">"Header: SubscriptionId,OfferType,BillingPartnerId,CustomerTenantId,CustomerName,Status (JSON: the same keys in camelCase). All rows or none; CSPSS is read as APSS."</span>
                    <input type="file" name=FILE_FIELD accept=".csv,.json,text/csv,application/json"/>
                </label>
                <div><button type="submit" class="primary">"Import"</button></div>
            </form>
            <form method="get" action="/operator" class="inline" aria-label="Search the directory">
                <input name="q" value=search placeholder="customer name, subscription or tenant ID"/>
                " " <button type="submit">"Search"</button>
            </form>
            <DirectoryTable rows=directory.rows/>
            <Pager page=directory.page more=directory.more label="Directory pages" href=pager(List::Directory)/>
        </section>
        <section class="card" aria-label="Prices and meter map">
            <h2>"Price list and meter map"</h2>
            {(data.rerating > 0).then(|| view! {
                <p class="notice warn" role="status" data-testid="rerating">
                    {format!("Re-rating in the background: {} stacks to go. Their bills say so until done.", data.rerating)}
                </p>
            })}
            <p>"Usage is charged as commerce meters: each local meter maps to one, times a factor; a local meter without one is informational. Prices apply from their effective date (UTC) until a later one. Imports are all or nothing and re-rate open periods."</p>
            <form method="post" action=IMPORT_PRICES.pattern() enctype="multipart/form-data" class="inline" aria-label="Import a price list">
                <label>"Price list (CSV; Azure Stack rows are kept) " <input type="file" name=FILE_FIELD accept=".csv,text/csv" required/></label>
                " " <button type="submit">"Import prices"</button>
            </form>
            <form method="post" action=IMPORT_METER_MAP.pattern() enctype="multipart/form-data" class="inline" aria-label="Import the meter map">
                <label>"Meter map (CSV: Local Meter ID, Commerce Meter ID, Factor) " <input type="file" name=FILE_FIELD accept=".csv,text/csv" required/></label>
                " " <button type="submit">"Import meter map"</button>
            </form>
            <PriceTable rows=prices.rows/>
            <Pager page=prices.page more=prices.more label="Price list pages" href=pager(List::Prices)/>
            <MeterMapTable rows=meters.rows/>
            <Pager page=meters.page more=meters.more label="Meter map pages" href=pager(List::Meters)/>
        </section>
        <section class="card">
            <h2>"Partners"</h2>
            <crate::stacks::components::PartnerTable partners=partners.rows path="/operator"/>
            <Pager page=partners.page more=partners.more label="Partner pages" href=pager(List::Partners)/>
            <AddPartnerForm/>
        </section>
    }
}

/// The operator page's lists, each with its own keys in the address (`?{list}_page=&{list}_sort=&{list}_desc=`).
#[derive(Clone, Copy)]
enum List {
    Partners,
    Directory,
    Prices,
    Meters,
}

impl List {
    /// The list's name, the prefix of its sort keys.
    fn name(self) -> &'static str {
        match self {
            List::Partners => "partners",
            List::Directory => "directory",
            List::Prices => "prices",
            List::Meters => "meters",
        }
    }

    /// The address's key of the list's page.
    fn page_name(self) -> &'static str {
        match self {
            List::Partners => "partners_page",
            List::Directory => "directory_page",
            List::Prices => "prices_page",
            List::Meters => "meters_page",
        }
    }

    /// The list's page and order in the address.
    fn at(self, query: &[(String, String)]) -> ListAt {
        ListAt::of(query, self.name(), self.page_name())
    }
}

/// A heading that sorts one of the page's lists and takes it to its first page.
fn heading(list: List, label: &str, column: &'static str, num: bool) -> impl IntoView {
    let (list, page_name) = (list.name(), list.page_name());
    view! { <SortHeader label=label.to_string() column path="/operator".into() list page_name num/> }
}

/// The price list, newest price first per meter.
#[component]
fn PriceTable(rows: Vec<PriceEntry>) -> impl IntoView {
    view! {
        <table class="data" tabindex="0" aria-label="Price list">
            <thead><tr>{heading(List::Prices, "Commerce meter", "meter", false)}{heading(List::Prices, "Unit", "unit", false)}
                {heading(List::Prices, "Unit price", "price", true)}{heading(List::Prices, "From (UTC)", "from", false)}
                {heading(List::Prices, "To (UTC)", "to", false)}</tr></thead>
            <tbody>{rows.into_iter().map(|p| view! {
                <tr><td>{p.meter_name}<br/><span class="mono">{p.commerce_meter_id.to_string()}</span></td><td>{p.unit}</td>
                    <td class="num">{format!("{} {}", p.unit_price, p.currency)}</td><td>{day(p.effective_from)}</td>
                    <td>{p.effective_to.map_or_else(|| "in force".into(), day)}</td></tr>
            }).collect_view()}</tbody>
        </table>
    }
}

/// The meter map: each local meter and the commerce meter it is billed as, with the factor.
#[component]
fn MeterMapTable(rows: Vec<MeterMapEntry>) -> impl IntoView {
    view! {
        <table class="data" tabindex="0" aria-label="Meter map">
            <thead><tr>{heading(List::Meters, "Local meter", "local", false)}{heading(List::Meters, "Commerce meter", "commerce", false)}
                {heading(List::Meters, "Factor", "factor", true)}</tr></thead>
            <tbody>{rows.into_iter().map(|m| view! {
                <tr><td>{m.local_name.unwrap_or_else(|| "unknown meter".into())}<br/><span class="mono">{m.local_meter_id.to_string()}</span></td>
                    <td class="mono">{m.commerce_meter_id.to_string()}</td><td class="num">{m.factor}</td></tr>
            }).collect_view()}</tbody>
        </table>
    }
}

#[component]
fn DirectoryTable(rows: Vec<CustomerSub>) -> impl IntoView {
    view! {
        <table class="data" tabindex="0" aria-label="Directory">
            <thead><tr>{heading(List::Directory, "Customer", "customer", false)}{heading(List::Directory, "Subscription", "subscription", false)}
                {heading(List::Directory, "Offer", "offer", false)}{heading(List::Directory, "Status", "status", false)}</tr></thead>
            <tbody>
                {rows.into_iter().map(|r| view! {
                    <tr>
                        <td>{r.customer_name}<br/><span class="mono">{r.tenant_id.to_string()}</span></td>
                        <td class="mono">{r.subscription_id.to_string()}</td>
                        <td>{r.offer_type.as_str()}</td>
                        <td>
                            <form method="post" action=SET_STATUS.pattern() class="inline">
                                <input type="hidden" name=StatusForm::FIELDS.subscription_id value=r.subscription_id.to_string()/>
                                <select name=StatusForm::FIELDS.status aria-label="Status">
                                    {[SubscriptionStatus::Active, SubscriptionStatus::Suspended, SubscriptionStatus::Deleted].into_iter().map(|s| view! { <option value=s.as_str() selected=s == r.status>{s.as_str()}</option> }).collect_view()}
                                </select>
                                " " <button type="submit">"Save"</button>
                            </form>
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn AddPartnerForm() -> impl IntoView {
    const F: crate::partners::forms::PartnerFields = PartnerForm::FIELDS;
    view! {
        <form method="post" action=ADD_PARTNER.pattern() class="stacked" aria-label="Add a partner">
            <h3>"Add a partner"</h3>
            <label>"Name" <input name=F.name required/></label>
            <label>"Partner ID (GUID)" <input name=F.partner_id required/></label>
            <label>"MPN ID (digits)" <input name=F.mpn_id required/></label>
            <label>"Directory tenant (GUID)" <span class="hint">"The partner organisation's tenant: its staff sign in with this `tid`."</span> <input name=F.tenant required/></label>
            <label>"Currency" <input name=F.currency value="USD" maxlength="3"/></label>
            <div><button type="submit" class="primary">"Add partner"</button></div>
        </form>
    }
}
