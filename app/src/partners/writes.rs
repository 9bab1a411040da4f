//! The partner writes: the operator adds partners; a partner's admin saves its details.
use axum::extract::{FromRef, State};
use axum::response::Redirect;
use axum::routing::post;
use axum::{Form, Router};
use sqlx::PgPool;

use super::details::PartnerDetails;
use super::forms::{DetailsForm, PartnerForm, ADD_PARTNER, PARTNER_SETTINGS};
use super::NewPartner;
use crate::operator::forms::OPERATOR_PAGE;
use crate::web::caller::{Operator, Writer};
use crate::web::respond::{back, back_typed};
use crate::web::FormId;
use crate::AppError;

/// The partner routes, for the server's router.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PgPool: FromRef<S>,
{
    Router::new().route(ADD_PARTNER.pattern(), post(add_partner)).route(PARTNER_SETTINGS.pattern(), post(save_details))
}

/// `POST /operator/partners`
async fn add_partner(
    State(pool): State<PgPool>,
    Operator(caller): Operator,
    Form(f): Form<PartnerForm>,
) -> Result<Redirect, AppError> {
    let currency = if f.currency.trim().is_empty() { "USD" } else { f.currency.as_str() };
    let result = async {
        let new = NewPartner::parse(&f.name, &f.partner_id, &f.mpn_id, &f.tenant, currency)?;
        let mut tx = pool.begin().await?;
        let p = super::db::add_partner(&mut tx, &caller.actor(), &new).await?;
        tx.commit().await?;
        Ok(format!("Partner {} added.", p.name))
    }
    .await;
    back(&caller.session, OPERATOR_PAGE.pattern(), FormId::Operator, result).await
}

/// `POST /settings/partner`: a partner's admin saves its details (operators and readers: 403).
async fn save_details(
    State(pool): State<PgPool>,
    Writer(caller): Writer,
    Form(f): Form<DetailsForm>,
) -> Result<Redirect, AppError> {
    let partner = caller.partner_writer()?;
    let result = async {
        let details = PartnerDetails::parse(&f)?;
        let mut tx = pool.begin().await?;
        super::db::save_details(&mut tx, &caller.actor(), partner, &details).await?;
        tx.commit().await?;
        Ok("Details saved; invoices issued from now on print them.".to_string())
    }
    .await;
    back_typed(&caller.session, PARTNER_SETTINGS.pattern(), FormId::PartnerDetails, result, f.typed()).await
}
