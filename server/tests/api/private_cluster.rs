//! The portal's own PostgreSQL cluster (used when DATABASE_URL is unset).
use sqlx::{ConnectOptions, Connection};

use server::pg::PrivateCluster;

#[tokio::test]
async fn the_private_cluster_starts_keeps_its_data_and_stops() {
    let root = std::env::temp_dir().join(format!("stackbill-cluster-test-{}", uuid::Uuid::new_v4()));

    let cluster = PrivateCluster::ensure(&root).await.expect("cluster starts");
    let mut conn = cluster.connect_options().connect().await.unwrap();
    sqlx::query("create table kept (x int)").execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    cluster.stop_if_started_here().await.unwrap();

    let again = PrivateCluster::ensure(&root).await.expect("cluster restarts");
    let mut conn = again.connect_options().connect().await.unwrap();
    let kept: bool = sqlx::query_scalar("select exists(select 1 from pg_tables where tablename = 'kept')")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    again.stop_if_started_here().await.unwrap();
    std::fs::remove_dir_all(&root).unwrap();

    assert!(kept, "data survives a restart");
}
