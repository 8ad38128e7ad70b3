//! The hub's prompts in the one approvals queue (enrolments, held
//! messages, A2A channels, decisions), keyed by what they ask about: at
//! most one on screen per key, withdrawn when the question is answered
//! elsewhere (the hub's routes, the pages).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::task::AbortHandle;

use crate::approvals::{ApprovalError, Approvals, NewApproval};

#[derive(Clone, Default)]
pub struct PromptSet {
    open: Arc<Mutex<HashMap<String, AbortHandle>>>,
}

impl PromptSet {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, AbortHandle>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Take down the prompt for `key`, if one is on screen.
    pub fn withdraw(&self, key: &str) {
        if let Some(h) = self.map().remove(key) {
            h.abort();
        }
    }

    /// Put `request` in the queue unless a prompt for `key` is open. On an
    /// answer, `answered(true)` for allow or `answered(false)` for deny
    /// runs; unanswered (timeout, lock, full queue) leaves the question open.
    pub fn ask<F, Fut>(
        &self,
        key: String,
        approvals: Arc<Approvals>,
        request: NewApproval,
        answered: F,
    ) where
        F: FnOnce(bool) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut map = self.map();
        if map.contains_key(&key) {
            return;
        }
        let set = self.clone();
        let k = key.clone();
        let task = tokio::spawn(async move {
            let outcome = approvals.request(request).await;
            set.map().remove(&k);
            match outcome {
                Ok(_) => answered(true).await,
                Err(ApprovalError::Denied) => answered(false).await,
                Err(_) => {}
            }
        });
        map.insert(key, task.abort_handle());
    }
}
