//! The operator's partner writes.
use axum::extract::{FromRef, State};
use axum::response::Redirect;
use axum::routing::post;
use axum::{Form, Router};
use sqlx::PgPool;

use super::forms::{PartnerForm, ADD_PARTNER};
use super::NewPartner;
use crate::operator::forms::OPERATOR_PAGE;
use crate::web::caller::Operator;
use crate::web::respond::back;
use crate::web::FormId;
use crate::AppError;

/// The partner routes, for the server's router.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PgPool: FromRef<S>,
{
    Router::new().route(ADD_PARTNER.pattern(), post(add_partner))
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
