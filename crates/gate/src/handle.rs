//! The task that owns the [`Ledger`]: one OS thread (store writes block on
//! fsync) that runs, in order, the closures other tasks send it over a
//! bounded channel.

use tokio::sync::{mpsc, oneshot};

use crate::{error::GateError, ledger::Ledger};

/// Commands waiting for the ledger thread.
const QUEUE: usize = 1024;

type Job = Box<dyn FnOnce(&mut Ledger) + Send>;

/// A cloneable way to reach the ledger.
#[derive(Debug, Clone)]
pub struct LedgerHandle {
    jobs: mpsc::Sender<Job>,
}

impl LedgerHandle {
    /// Moves `ledger` to its own thread. The thread ends once every handle
    /// is dropped and the queued commands have run.
    pub fn spawn(mut ledger: Ledger) -> std::io::Result<(Self, std::thread::JoinHandle<()>)> {
        let (jobs, mut rx) = mpsc::channel::<Job>(QUEUE);
        let thread = std::thread::Builder::new().name("gate-ledger".into()).spawn(move || {
            while let Some(job) = rx.blocking_recv() {
                job(&mut ledger);
            }
        })?;
        Ok((Self { jobs }, thread))
    }

    /// Runs `f` on the ledger and returns its answer.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Ledger) -> R + Send + 'static,
    ) -> Result<R, GateError> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |ledger| {
            let _ = reply.send(f(ledger));
        });
        self.jobs.send(job).await.map_err(|_| GateError::LedgerStopped)?;
        answer.await.map_err(|_| GateError::LedgerStopped)
    }
}
