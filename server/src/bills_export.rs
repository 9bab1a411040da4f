//! All bills of a partner's month as one CSV, produced bill by bill: for the page's download and `stackbill bills
//! export`. A bill is computed, written and dropped before the next one is read.
use futures_util::Stream;
use sqlx::PgPool;
use tokio::sync::mpsc;
use uuid::Uuid;

use app::bills::db::bill;
use app::domain::Period;
use app::AppError;

/// Writes the CSV (header first) to `send`, one chunk per bill; `only` limits it to one customer.
pub async fn write(
    pool: &PgPool,
    partner: Uuid,
    period: Period,
    only: Option<Uuid>,
    send: &mpsc::Sender<Result<Vec<u8>, AppError>>,
) -> Result<(), AppError> {
    if send.send(Ok(app::bills::csv::header())).await.is_err() {
        return Ok(());
    }
    let subs = app::bills::list::bill_subscriptions(&mut *pool.acquire().await?, partner, period).await?;
    for sub in subs.into_iter().filter(|s| only.is_none_or(|o| o == *s)) {
        let mut conn = pool.acquire().await?;
        // A subscription listed only by a note of changed charges, whose month has since lost them all and which the
        // partner otherwise does not know, has no bill: nothing to write.
        let b = match bill(&mut conn, partner, sub, period).await {
            Ok(b) => b,
            Err(AppError::NotFound) => continue,
            Err(e) => return Err(e),
        };
        drop(conn);
        if send.send(Ok(app::bills::csv::rows(&b)?)).await.is_err() {
            return Ok(());
        }
    }
    Ok(())
}

/// The CSV as a stream of chunks, for a response body.
pub fn stream(pool: PgPool, partner: Uuid, period: Period) -> impl Stream<Item = Result<Vec<u8>, AppError>> {
    let (send, receive) = mpsc::channel(4);
    tokio::spawn(async move {
        if let Err(e) = write(&pool, partner, period, None, &send).await {
            let _ = send.send(Err(e)).await;
        }
    });
    futures_util::stream::unfold(receive, |mut r| async move { r.recv().await.map(|item| (item, r)) })
}
