//! Verifying the stored records against the chain that describes them:
//! every incident row must be what its events replay to
//! (`domain::replay`), every evidence row what its collection event says.
//! The chain is checked first; these checks only mean something once it
//! holds.

use std::collections::BTreeMap;

use super::timeline::{Checkpoint, VerifyReport, event_from_row};
use super::{Result, Store};
use crate::domain::Incident;
use crate::domain::replay;

impl Store {
    /// The chain (against `checkpoint` when given), then the records: the
    /// whole of `warroom verify`.
    pub fn verify(&self, checkpoint: Option<&Checkpoint>) -> Result<VerifyReport> {
        let mut report = match checkpoint {
            Some(cp) => self.verify_against(cp)?,
            None => self.verify_chain()?,
        };
        if report.failure.is_none() {
            report.records = self.verify_records()?;
        }
        Ok(report)
    }

    /// Every place where a stored row contradicts the chain, one line each.
    pub fn verify_records(&self) -> Result<Vec<String>> {
        let mut problems = self.incident_record_problems()?;
        problems.extend(self.evidence_record_problems()?);
        Ok(problems)
    }

    fn incident_record_problems(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let mut replayed: BTreeMap<String, Option<Incident>> = BTreeMap::new();
        let mut broken: BTreeMap<String, String> = BTreeMap::new();
        {
            let mut stmt = self
                .conn
                .prepare(
                    "SELECT seq, at, actor, incident_id, kind, detail, data, prev_hash, hash
                     FROM events WHERE incident_id IS NOT NULL ORDER BY chain, chain_seq",
                )
                .map_err(|e| self.err(e))?;
            let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
            while let Some(r) = rows.next().map_err(|e| self.err(e))? {
                let e = event_from_row(r).map_err(|e| self.err(e))?;
                let Some(id) = e.incident.clone() else {
                    continue;
                };
                if broken.contains_key(&id) {
                    continue;
                }
                let state = replayed.entry(id.clone()).or_default();
                if let Err(err) = replay::apply(state, &e) {
                    broken.insert(id, err.to_string());
                }
            }
        }
        for (id, err) in &broken {
            problems.push(format!(
                "incident {id}: its events cannot be replayed: {err}"
            ));
        }
        for row in self.incidents(true)? {
            let id = row.id.as_str().to_string();
            if broken.contains_key(&id) {
                replayed.remove(&id);
                continue;
            }
            match replayed.remove(&id).flatten() {
                None => problems.push(format!(
                    "incident {id}: has no incident.created event; the row was added outside warroom"
                )),
                Some(from_events) => problems.extend(
                    replay::differences(&row, &from_events)
                        .into_iter()
                        .map(|d| format!("incident {id}: {d}; the row was changed outside warroom")),
                ),
            }
        }
        for (id, state) in replayed {
            if state.is_some() && !broken.contains_key(&id) {
                problems.push(format!(
                    "incident {id}: its events are in the timeline but its row is gone"
                ));
            }
        }
        Ok(problems)
    }
}

#[cfg(test)]
#[path = "records_tests.rs"]
mod tests;
