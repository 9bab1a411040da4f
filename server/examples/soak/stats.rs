//! The soak's figures per route (requests, answers, p50/p99) and its seeded random numbers.
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub(crate) struct XorShift(pub u64);

impl XorShift {
    pub fn below(&mut self, n: u32) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % u64::from(n)) as u32
    }
}

/// One route's answers: their latencies, and how many of each status.
pub(crate) type Answers = (Vec<Duration>, BTreeMap<u16, u64>);

/// Answers per route.
#[derive(Default)]
pub(crate) struct Stats {
    routes: Mutex<BTreeMap<&'static str, Answers>>,
}

impl Stats {
    pub fn note(&self, route: &'static str, took: Duration, status: u16) {
        let mut routes = self.routes.lock().unwrap();
        let (times, statuses) = routes.entry(route).or_default();
        times.push(took);
        *statuses.entry(status).or_default() += 1;
    }

    /// Sends the request, reads the whole answer and notes it; its status.
    pub async fn send(
        &self,
        route: &'static str,
        request: reqwest::RequestBuilder,
    ) -> anyhow::Result<reqwest::StatusCode> {
        let t = Instant::now();
        let res = request.send().await?;
        let status = res.status();
        let body = res.bytes().await?;
        self.note(route, t.elapsed(), status.as_u16());
        anyhow::ensure!(!status.is_server_error(), "{route} answered {status}: {}", String::from_utf8_lossy(&body));
        Ok(status)
    }

    pub fn print(&self) -> bool {
        let routes = self.routes.lock().unwrap();
        let mut clean = true;
        println!("| route | requests | answers | p50 | p99 |\n|---|---:|---|---:|---:|");
        for (route, (times, statuses)) in routes.iter() {
            let mut t = times.clone();
            t.sort();
            let at = |q: f64| t[((t.len() - 1) as f64 * q) as usize].as_secs_f64() * 1000.0;
            let answers: Vec<String> = statuses.iter().map(|(s, n)| format!("{n}× {s}")).collect();
            clean &= statuses.keys().all(|s| *s < 500);
            println!("| {route} | {} | {} | {:.1} ms | {:.1} ms |", t.len(), answers.join(", "), at(0.5), at(0.99));
        }
        clean
    }
}
