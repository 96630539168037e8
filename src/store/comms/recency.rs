//! When customers were last told anything about an incident: the incident
//! view's "last customer update 12 min ago". Read only.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::super::rows::parse_opt_time;
use super::super::{Result, Store};
use crate::domain::IncidentId;
use crate::domain::comms::Audience;
use crate::domain::event::kinds;

impl Store {
    /// The newest of the incident's messages to customers and its
    /// "customers notified" records (a notice sent by other means), or
    /// `None` when customers have not been told anything yet. Read apart
    /// from the incident's detail, whose timeline is cut to its newest
    /// events and so may not reach back to the last customer message.
    pub fn last_customer_update(&self, incident: &IncidentId) -> Result<Option<DateTime<Utc>>> {
        // Stored times are RFC 3339 UTC with a fixed width, so max() of the
        // text is the latest time.
        self.conn
            .query_row(
                "SELECT max(at) FROM (
                     SELECT max(sent_at) AS at FROM messages
                      WHERE incident_id = ?1 AND audience = ?2
                     UNION ALL
                     SELECT max(at) FROM events
                      WHERE incident_id = ?1 AND kind = ?3
                 )",
                params![
                    incident.as_str(),
                    Audience::Customers.as_str(),
                    kinds::CUSTOMER_NOTIFIED
                ],
                |r| parse_opt_time(r, 0),
            )
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::super::NewMessage;
    use crate::domain::Severity;
    use crate::domain::comms::Audience;
    use crate::store::test_fixtures::{t0, with_incident};

    fn msg(id: &crate::domain::IncidentId, audience: Audience) -> NewMessage {
        NewMessage {
            incident_id: id.clone(),
            audience,
            template: None,
            body: "Login is restored.".into(),
            author: "bob".into(),
        }
    }

    #[test]
    fn only_customer_messages_and_notices_count_and_the_newest_wins() {
        let (_dir, mut s, i) = with_incident("Login API down", Severity::P2);
        assert_eq!(s.last_customer_update(&i.id).unwrap(), None);

        let first = t0() + Duration::minutes(5);
        s.send_message(&msg(&i.id, Audience::Customers), &[], first)
            .unwrap();
        // Internal and executive updates are not customer updates.
        s.send_message(
            &msg(&i.id, Audience::Internal),
            &[],
            t0() + Duration::minutes(9),
        )
        .unwrap();
        assert_eq!(s.last_customer_update(&i.id).unwrap(), Some(first));

        let notice = t0() + Duration::minutes(20);
        s.record_customer_notice(&i.id, "carol", notice).unwrap();
        assert_eq!(s.last_customer_update(&i.id).unwrap(), Some(notice));

        let again = t0() + Duration::minutes(30);
        s.send_message(&msg(&i.id, Audience::Customers), &[], again)
            .unwrap();
        assert_eq!(s.last_customer_update(&i.id).unwrap(), Some(again));
    }

    #[test]
    fn another_incidents_messages_do_not_count() {
        let (_dir, mut s, i) = with_incident("Login API down", Severity::P2);
        let other = s
            .create_incident(
                &crate::store::NewIncident::new("Other", Severity::P3),
                &crate::domain::Playbook::builtin(),
                "alice",
                t0(),
            )
            .unwrap();
        s.send_message(&msg(&other.id, Audience::Customers), &[], t0())
            .unwrap();
        assert_eq!(s.last_customer_update(&i.id).unwrap(), None);
        assert!(s.last_customer_update(&other.id).unwrap().is_some());
    }
}
