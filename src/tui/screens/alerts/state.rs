//! The alert list: its state and pure helpers; nothing here imports the app.

use std::collections::VecDeque;

use crate::store::RaisedAlert;

/// At most this many alerts are kept for the list; older ones make way.
pub const MAX_KEPT: usize = 500;

/// How many alerts raised before the console opened the list starts with.
pub const RECENT: usize = 50;

/// The alert list screen: where its cursor is (0: the newest alert).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertsState {
    pub cursor: usize,
}

/// The alerts this console has seen, oldest first, at most [`MAX_KEPT`].
/// Fed by the store worker whatever screen is shown, so it lives in the
/// app; the screen only reads it.
#[derive(Debug, Clone, Default)]
pub struct AlertLog {
    alerts: VecDeque<RaisedAlert>,
}

impl AlertLog {
    /// Adds alerts read from the store (in the order raised); an alert
    /// already kept (same number) is replaced, so nothing is listed twice.
    pub fn extend(&mut self, new: impl IntoIterator<Item = RaisedAlert>) {
        for a in new {
            match self.alerts.back() {
                Some(last) if last.id >= a.id => {
                    if let Some(old) = self.alerts.iter_mut().find(|o| o.id == a.id) {
                        *old = a;
                    }
                }
                _ => self.alerts.push_back(a),
            }
        }
        while self.alerts.len() > MAX_KEPT {
            self.alerts.pop_front();
        }
    }

    pub fn len(&self) -> usize {
        self.alerts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty()
    }

    /// The `n`th newest alert (0: the newest): the list's order.
    pub fn newest(&self, n: usize) -> Option<&RaisedAlert> {
        self.alerts
            .len()
            .checked_sub(n + 1)
            .and_then(|i| self.alerts.get(i))
    }

    /// Newest first.
    pub fn iter_newest(&self) -> impl Iterator<Item = &RaisedAlert> {
        self.alerts.iter().rev()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewAlert;

    pub(crate) fn raised(id: i64) -> RaisedAlert {
        RaisedAlert {
            id,
            alert: NewAlert {
                key: format!("k{id}"),
                incident_id: Some("INC-2026-001".into()),
                kind: "clock-due".into(),
                text: format!("alert {id}"),
                recipient: None,
                raised_by: "bob".into(),
                raised_at: "2026-11-22T18:00:00Z".parse().unwrap(),
            },
            acknowledged_at: None,
        }
    }

    #[test]
    fn the_log_keeps_the_newest_once_each_and_lists_them_newest_first() {
        let mut log = AlertLog::default();
        log.extend((1..=3).map(raised));
        // Read again (e.g. the first load and the first poll overlap).
        log.extend([raised(3)]);
        assert_eq!(log.len(), 3);
        assert_eq!(log.newest(0).unwrap().id, 3);
        assert_eq!(log.newest(2).unwrap().id, 1);
        assert!(log.newest(3).is_none());
        log.extend((4..=(MAX_KEPT as i64 + 10)).map(raised));
        assert_eq!(log.len(), MAX_KEPT);
        assert_eq!(log.newest(0).unwrap().id, MAX_KEPT as i64 + 10);
        assert_eq!(log.iter_newest().last().unwrap().id, 11);
    }
}
