use super::*;

/// An Alertmanager v4 group notification, shaped as its webhook_config
/// documentation describes: two alerts of one group, one firing and one
/// resolved, with the group's common labels.
pub(crate) const AM_GROUP: &str = r#"{
  "version": "4",
  "groupKey": "{}/{team=\"infra\"}:{alertname=\"DiskFull\"}",
  "truncatedAlerts": 0,
  "status": "firing",
  "receiver": "warroom",
  "groupLabels": {"alertname": "DiskFull"},
  "commonLabels": {"alertname": "DiskFull", "severity": "critical", "team": "infra"},
  "commonAnnotations": {"summary": "Disk almost full"},
  "externalURL": "http://am.example.internal:9093",
  "alerts": [
    {
      "status": "firing",
      "labels": {"alertname": "DiskFull", "instance": "db1:9100", "severity": "critical", "team": "infra"},
      "annotations": {"summary": "Disk almost full on db1", "description": "/var is 97% full"},
      "startsAt": "2026-11-30T08:15:02.120Z",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "http://prom.example.internal:9090/graph?g0.expr=disk",
      "fingerprint": "5f2b8e31d9c0a7e4"
    },
    {
      "status": "resolved",
      "labels": {"alertname": "DiskFull", "instance": "db2:9100", "severity": "critical", "team": "infra"},
      "annotations": {"summary": "Disk almost full on db2"},
      "startsAt": "2026-11-30T07:00:00+01:00",
      "endsAt": "2026-11-30T07:40:00+01:00",
      "generatorURL": "http://prom.example.internal:9090/graph?g0.expr=disk",
      "fingerprint": "0a9c41d2be77f310"
    }
  ]
}"#;

/// Grafana's webhook contact point: version "1", orgId, title/message,
/// and per alert silenceURL, values.
const GRAFANA: &str = r#"{
  "receiver": "warroom-hook", "status": "firing", "orgId": 1,
  "alerts": [{
    "status": "firing",
    "labels": {"alertname": "High latency", "grafana_folder": "api"},
    "annotations": {"summary": "p99 latency above 2s"},
    "startsAt": "2026-11-30T09:00:03.5+02:00",
    "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": "https://grafana.example.internal/alerting/abc/edit",
    "fingerprint": "e1d0c3b2a1f00001",
    "silenceURL": "https://grafana.example.internal/alerting/silence/new",
    "dashboardURL": "", "panelURL": "",
    "values": {"B": 2.7, "C": 1}
  }],
  "groupLabels": {"alertname": "High latency"},
  "commonLabels": {"alertname": "High latency"},
  "commonAnnotations": {},
  "externalURL": "https://grafana.example.internal/",
  "version": "1",
  "groupKey": "{}:{alertname=\"High latency\"}",
  "truncatedAlerts": 0,
  "title": "[FIRING:1] High latency (api)",
  "state": "alerting",
  "message": "**Firing** ..."
}"#;

/// A Wazuh alert line as `alerts.json` holds it (one object per line).
pub(crate) const WAZUH_LINE: &str = r#"{"timestamp":"2026-11-30T10:00:00.123+0000","rule":{"level":10,"description":"sshd: brute force trying to get access to the system.","id":"5712","mitre":{"id":["T1110"]},"firedtimes":3,"mail":false,"groups":["syslog","sshd","authentication_failures"]},"agent":{"id":"003","name":"web-01","ip":"10.0.0.13"},"manager":{"name":"wazuh-manager"},"id":"1795946400.1234567","full_log":"Nov 30 10:00:00 web-01 sshd[2211]: Failed password for invalid user admin from 203.0.113.9 port 51122 ssh2","decoder":{"parent":"sshd","name":"sshd"},"data":{"srcip":"203.0.113.9","srcuser":"admin"},"location":"/var/log/auth.log"}"#;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn an_alertmanager_group_gives_one_alert_each_with_the_group_fields() {
    let alerts = alertmanager(AM_GROUP.as_bytes()).unwrap();
    assert_eq!(alerts.len(), 2);
    let a = &alerts[0];
    assert_eq!(a.id, "5f2b8e31d9c0a7e4");
    assert_eq!(a.status, AlertStatus::Firing);
    assert_eq!(a.starts_at, t("2026-11-30T08:15:02.120Z"));
    assert_eq!(a.ends_at, None, "0001-01-01 means no end");
    assert_eq!(
        text_at(&a.fields, "labels.severity").as_deref(),
        Some("critical")
    );
    assert_eq!(
        text_at(&a.fields, "labels.instance").as_deref(),
        Some("db1:9100")
    );
    assert_eq!(
        text_at(&a.fields, "annotations.summary").as_deref(),
        Some("Disk almost full on db1")
    );
    assert_eq!(
        text_at(&a.fields, "groupKey").as_deref(),
        Some("{}/{team=\"infra\"}:{alertname=\"DiskFull\"}")
    );
    assert_eq!(
        text_at(&a.fields, "commonLabels.team").as_deref(),
        Some("infra")
    );
    assert_eq!(text_at(&a.fields, "receiver").as_deref(), Some("warroom"));
    let r = &alerts[1];
    assert_eq!(r.status, AlertStatus::Resolved);
    assert_eq!(
        r.starts_at,
        t("2026-11-30T06:00:00Z"),
        "offset read, stored UTC"
    );
    assert_eq!(r.ends_at, Some(t("2026-11-30T06:40:00Z")));
    assert!(r.raw.contains("db2:9100"));
}

#[test]
fn grafana_webhook_payloads_are_read_too() {
    let alerts = alertmanager(GRAFANA.as_bytes()).unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].id, "e1d0c3b2a1f00001");
    assert_eq!(alerts[0].starts_at, t("2026-11-30T07:00:03.5Z"));
    assert_eq!(
        text_at(&alerts[0].fields, "title").as_deref(),
        Some("[FIRING:1] High latency (api)")
    );
    assert_eq!(text_at(&alerts[0].fields, "orgId").as_deref(), Some("1"));
}

#[test]
fn an_alert_without_fingerprint_is_identified_by_its_labels() {
    let body = |labels: &str| {
        format!(
            r#"{{"version":"4","status":"firing","alerts":[{{"status":"firing","labels":{labels},"annotations":{{}},"startsAt":"2026-11-30T08:00:00Z","endsAt":"0001-01-01T00:00:00Z"}}]}}"#
        )
    };
    let a = alertmanager(body(r#"{"a":"1","b":"2"}"#).as_bytes()).unwrap();
    let b = alertmanager(body(r#"{"b":"2","a":"1"}"#).as_bytes()).unwrap();
    let c = alertmanager(body(r#"{"a":"1","b":"3"}"#).as_bytes()).unwrap();
    assert_eq!(a[0].id, b[0].id, "label order does not matter");
    assert_ne!(a[0].id, c[0].id);
    assert_eq!(a[0].id.len(), 16);
}

#[test]
fn bad_alertmanager_payloads_are_refused_naming_the_field() {
    let cases: &[(&str, &str)] = &[
        ("", "not JSON"),
        ("[1]", "not a JSON object"),
        (r#"{"version":"3","alerts":[]}"#, "'version' is \"3\""),
        (r#"{"version":"4"}"#, "'alerts' is missing"),
        (r#"{"alerts":{}}"#, "'alerts' is not an array"),
        (r#"{"alerts":[7]}"#, "alerts[0] is not an object"),
        (
            r#"{"alerts":[{"status":"pending","labels":{},"startsAt":"2026-11-30T08:00:00Z"}]}"#,
            "alerts[0].status is \"pending\"",
        ),
        (
            r#"{"alerts":[{"status":"firing","startsAt":"2026-11-30T08:00:00Z"}]}"#,
            "alerts[0].labels is missing",
        ),
        (
            r#"{"alerts":[{"status":"firing","labels":{"x":1},"startsAt":"2026-11-30T08:00:00Z"}]}"#,
            "alerts[0].labels.x is not a string",
        ),
        (
            r#"{"alerts":[{"status":"firing","labels":{}}]}"#,
            "alerts[0].startsAt is missing",
        ),
        (
            r#"{"alerts":[{"status":"firing","labels":{},"startsAt":"yesterday"}]}"#,
            "alerts[0].startsAt: \"yesterday\" is not an RFC 3339 time",
        ),
        (r#"{"groupKey":5,"alerts":[]}"#, "groupKey is not a string"),
    ];
    for (body, want) in cases {
        let e = alertmanager(body.as_bytes()).unwrap_err();
        assert!(e.0.contains(want), "{body}: {e} lacks {want}");
    }
}

#[test]
fn a_wazuh_line_is_read_with_its_fields() {
    let a = wazuh(WAZUH_LINE).unwrap();
    assert_eq!(a.id, "1795946400.1234567");
    assert_eq!(a.status, AlertStatus::Firing);
    assert_eq!(a.starts_at, t("2026-11-30T10:00:00.123Z"));
    assert_eq!(text_at(&a.fields, "rule.level").as_deref(), Some("10"));
    assert_eq!(text_at(&a.fields, "rule.id").as_deref(), Some("5712"));
    assert_eq!(text_at(&a.fields, "agent.name").as_deref(), Some("web-01"));
    assert_eq!(
        text_at(&a.fields, "data.srcip").as_deref(),
        Some("203.0.113.9")
    );
    assert!(
        text_at(&a.fields, "full_log")
            .unwrap()
            .contains("Failed password")
    );
    assert_eq!(a.raw, WAZUH_LINE);
    // Another zone is read as such.
    let other = WAZUH_LINE.replace("10:00:00.123+0000", "12:00:00.123+0200");
    assert_eq!(wazuh(&other).unwrap().starts_at, a.starts_at);
}

#[test]
fn bad_wazuh_lines_are_refused_naming_the_field() {
    let cases: &[(&str, &str)] = &[
        ("{", "not JSON"),
        ("3", "not a JSON object"),
        (
            r#"{"timestamp":"2026-11-30T10:00:00.123+0000"}"#,
            "'rule' is missing",
        ),
        (
            r#"{"timestamp":"2026-11-30T10:00:00.123+0000","rule":{"id":"1"}}"#,
            "'rule.level' is missing",
        ),
        (
            r#"{"timestamp":"2026-11-30T10:00:00.123+0000","rule":{"id":"1","level":"high"}}"#,
            "'rule.level' is \"high\"",
        ),
        (
            r#"{"timestamp":"2026-11-30T10:00:00.123+0000","rule":{"level":3}}"#,
            "'rule.id' is missing",
        ),
        (r#"{"rule":{"id":"1","level":3}}"#, "'timestamp' is missing"),
        (
            r#"{"timestamp":"30/11/2026","rule":{"id":"1","level":3}}"#,
            "'timestamp': \"30/11/2026\" is not a time",
        ),
    ];
    for (line, want) in cases {
        let e = wazuh(line).unwrap_err();
        assert!(e.0.contains(want), "{line}: {e} lacks {want}");
    }
}

#[test]
fn generic_lines_read_the_configured_fields() {
    let line =
        r#"{"alert":{"id":"A-17","at":"2026-11-30T10:00:00Z"},"state":"resolved","title":"x"}"#;
    let a = generic(line, Some("alert.id"), "alert.at", Some("state")).unwrap();
    assert_eq!(a.id, "A-17");
    assert_eq!(a.status, AlertStatus::Resolved);
    assert_eq!(a.starts_at, t("2026-11-30T10:00:00Z"));
    let unix = generic(r#"{"t":1796032800.5}"#, None, "t", None).unwrap();
    assert_eq!(unix.starts_at, t("2026-11-30T10:00:00.5Z"));
    assert_eq!(unix.id.len(), 64, "no id field: the line's hash");
    let e = generic(r#"{"title":"x"}"#, None, "time", None).unwrap_err();
    assert!(e.0.contains("'time' (the time field) is missing"), "{e}");
    let e = generic(
        r#"{"time":"2026-11-30T10:00:00Z"}"#,
        Some("id"),
        "time",
        None,
    )
    .unwrap_err();
    assert!(e.0.contains("'id' (the id field) is missing"), "{e}");
    let e = generic(
        r#"{"time":"2026-11-30T10:00:00Z","s":"maybe"}"#,
        None,
        "time",
        Some("s"),
    )
    .unwrap_err();
    assert!(e.0.contains("'s' is \"maybe\""), "{e}");
}
