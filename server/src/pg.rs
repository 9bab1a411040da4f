//! The portal's own PostgreSQL cluster, used when `DATABASE_URL` is not set.
//!
//! It lives in a project-local directory (`.stackbill/postgres` by default) and survives restarts. It listens on a
//! Unix socket only, inside a directory that only the cluster's owner can enter, so "trust" authentication admits
//! nobody but that user (and root). Whoever started it stops it on exit; a cluster found running is left running.
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use sqlx::postgres::PgConnectOptions;
use tokio::process::Command;

const DATABASE: &str = "stackbill";
const PORT: u16 = 5432;

/// A private cluster that is running.
#[derive(Debug)]
pub struct PrivateCluster {
    bin: PathBuf,
    data: PathBuf,
    socket_dir: PathBuf,
    as_postgres_user: bool,
    started_here: bool,
}

impl PrivateCluster {
    /// Creates the cluster on first use, starts it if it is not running, and creates the database.
    pub async fn ensure(root: &Path) -> anyhow::Result<Self> {
        let bin = find_bin_dir()?;
        std::fs::create_dir_all(root).with_context(|| format!("cannot create {}", root.display()))?;
        let root = root.canonicalize()?.join("postgres");
        let me = Self {
            bin,
            data: root.join("data"),
            socket_dir: root.join("run"),
            // initdb refuses to run as root; the `postgres` system user owns the cluster then.
            as_postgres_user: unsafe { libc::geteuid() } == 0,
            started_here: false,
        };
        std::fs::create_dir_all(&me.socket_dir)?;
        me.own_dirs(&root).await?;
        if !me.data.join("PG_VERSION").exists() {
            me.initdb().await?;
        }
        let me = me.start_if_stopped().await?;
        me.create_database().await?;
        Ok(me)
    }

    /// How to connect: the private socket as the `postgres` superuser.
    pub fn connect_options(&self) -> PgConnectOptions {
        PgConnectOptions::new().socket(&self.socket_dir).port(PORT).username("postgres").database(DATABASE)
    }

    /// Stops the cluster if this process started it.
    pub async fn stop_if_started_here(&self) -> anyhow::Result<()> {
        if self.started_here {
            let data = self.data.display().to_string();
            self.run("pg_ctl", &["stop", "-D", &data, "-m", "fast", "-w"]).await?;
            tracing::info!("private PostgreSQL cluster stopped");
        }
        Ok(())
    }

    async fn own_dirs(&self, root: &Path) -> anyhow::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&self.socket_dir, std::fs::Permissions::from_mode(0o700))?;
        if self.as_postgres_user {
            let status = Command::new("chown").args(["-R", "postgres:postgres"]).arg(root).status().await?;
            if !status.success() {
                bail!("cannot give {} to the postgres user (needed when running as root)", root.display());
            }
        }
        Ok(())
    }

    async fn initdb(&self) -> anyhow::Result<()> {
        tracing::info!(dir = %self.data.display(), "creating the private PostgreSQL cluster");
        let data = self.data.display().to_string();
        self.run("initdb", &["-D", &data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"])
            .await
    }

    async fn start_if_stopped(mut self) -> anyhow::Result<Self> {
        let data = self.data.display().to_string();
        if self.run("pg_ctl", &["status", "-D", &data]).await.is_ok() {
            return Ok(self);
        }
        let log = self.data.join("server.log").display().to_string();
        let opts = format!("-c listen_addresses='' -k '{}' -p {PORT}", self.socket_dir.display());
        match self.run("pg_ctl", &["start", "-D", &data, "-w", "-t", "60", "-l", &log, "-o", &opts]).await {
            Ok(()) => {
                self.started_here = true;
                tracing::info!("private PostgreSQL cluster started");
                Ok(self)
            }
            // Another stackbill process may have started it a moment ago.
            Err(e) if self.run("pg_ctl", &["status", "-D", &data]).await.is_ok() => {
                tracing::debug!(error = %e, "cluster was started concurrently");
                Ok(self)
            }
            Err(e) => Err(e.context(format!("PostgreSQL did not start; see {log}"))),
        }
    }

    async fn create_database(&self) -> anyhow::Result<()> {
        use sqlx::{ConnectOptions, Connection};
        let mut conn = self.connect_options().database("postgres").connect().await?;
        let exists: bool = sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
            .bind(DATABASE)
            .fetch_one(&mut conn)
            .await?;
        if !exists {
            sqlx::query(&format!("create database {DATABASE}")).execute(&mut conn).await?;
        }
        conn.close().await?;
        Ok(())
    }

    async fn run(&self, tool: &str, args: &[&str]) -> anyhow::Result<()> {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            // The caller's directory may be closed to the postgres user; start somewhere it can enter.
            c.current_dir("/");
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd.args(args).output().await.with_context(|| format!("cannot run {}", exe.display()))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(anyhow!("{tool} {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
        }
    }
}

/// `PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`, else the directory of `initdb` on `PATH`.
fn find_bin_dir() -> anyhow::Result<PathBuf> {
    if let Ok(dir) = std::env::var("PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .find(|dir| dir.join("initdb").exists())
        .ok_or_else(|| anyhow!("PostgreSQL binaries (initdb, pg_ctl) not found: install Debian's `postgresql` package, set PG_BIN, or set DATABASE_URL"))
}
