//! Templates: shipped ones render, overrides, strict rendering and
//! errors naming template and line.

use super::*;
use crate::domain::{Playbook, Policy, Severity};
use crate::store::{NewIncident, Store};

fn fields(sev: Severity) -> MessageFields {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("w.db")).unwrap();
    let now = "2024-01-15T14:30:00Z".parse().unwrap();
    let mut new = NewIncident::new("Login API returning 500s", sev);
    new.summary = "Attackers tried passwords.".into();
    new.customer_impact = "Logins may fail.".into();
    let i = s
        .create_incident(&new, &Playbook::builtin(), "alice", now)
        .unwrap();
    let d = s.detail(&i.id, None).unwrap();
    MessageFields::from_incident(&d, &Policy::builtin(), "soc@example.com", now)
}

#[test]
fn every_shipped_template_renders_for_every_severity() {
    let t = Templates::builtin();
    let names: Vec<String> = t.list().into_iter().map(|i| i.name).collect();
    assert_eq!(names, ["customer", "internal", "executive", "regulator"]);
    for sev in Severity::ALL {
        let f = fields(sev);
        for name in &names {
            let out = t
                .render(name, &f)
                .unwrap_or_else(|e| panic!("{name} {sev}: {e}"));
            assert!(out.contains(&f.id), "{name}: {out}");
            assert!(!out.contains("{{") && !out.contains("{%"), "{name}: {out}");
        }
    }
    let customer = t.render("customer", &fields(Severity::P2)).unwrap();
    assert!(
        customer.starts_with("SECURITY INCIDENT NOTIFICATION\n"),
        "{customer}"
    );
    assert!(customer.contains("Severity: P2 - High\n"), "{customer}");
    assert!(customer.contains("NEXT UPDATE:\nWithin 2 hours or sooner if status changes\n"));
}

#[test]
fn syntax_errors_and_unknown_fields_name_template_and_line() {
    let f = fields(Severity::P1);
    let err = render_source("custom.txt", "line one\n{% if drill %}\nno end\n", &f).unwrap_err();
    assert_eq!(err.template, "custom.txt");
    assert!(err.to_string().starts_with("custom.txt:"), "{err}");
    assert!(err.problem.contains("syntax error"), "{err}");

    let err = render_source("custom.txt", "a\nb\nHello {{ customer_name }}\n", &f).unwrap_err();
    assert_eq!(err.line, Some(3));
    assert!(
        err.to_string()
            .starts_with("custom.txt:3: unknown field 'customer_name'"),
        "{err}"
    );

    // Even in a branch the incident does not take.
    let err = render_source("x.txt", "{% if drill %}\n{{ typo }}\n{% endif %}\n", &f).unwrap_err();
    assert_eq!(
        (err.line, err.problem.starts_with("unknown field 'typo'")),
        (Some(2), true)
    );

    // A missing attribute is caught at render time with its line.
    let err = render_source(
        "x.txt",
        "{% for a in actions_taken %}{% endfor %}\n{{ clocks[0].nope }}\n",
        &f,
    )
    .unwrap_err();
    assert_eq!(err.line, Some(2), "{err}");

    let err = Templates::builtin().render("nope", &f).unwrap_err();
    assert!(
        err.unknown_template && err.problem.contains("customer, internal"),
        "{err}"
    );
}

#[test]
fn runaway_templates_stop_at_a_named_bound() {
    let f = fields(Severity::P1);
    // Ten billion iterations: without a bound this never returns.
    let nested =
        "Hi\n{% for a in range(100000) %}{% for b in range(100000) %}\n{% endfor %}{% endfor %}\n";
    let err = render_source("slow.txt", nested, &f).unwrap_err();
    assert_eq!(err.template, "slow.txt");
    assert!(
        err.to_string()
            .contains(&format!("stopped after {MAX_RENDER_STEPS} steps")),
        "{err}"
    );

    // Few steps, much output: bounded by what a message may hold.
    let wide = "{% for a in range(2000) %}{{ summary * 1000 }}{% endfor %}";
    let err = render_source("wide.txt", wide, &f).unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "wide.txt: the output grew past {MAX_OUTPUT_BYTES} bytes"
        )),
        "{err}"
    );

    // Unbounded recursion stops at the nesting bound, with its line.
    let deep = "x\n{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}\n{{ f(0) }}\n";
    let err = render_source("deep.txt", deep, &f).unwrap_err();
    assert!(
        err.problem
            .starts_with(&format!("nested more than {MAX_NESTING} levels")),
        "{err}"
    );
    assert!(err.line.is_some(), "{err}");

    // A template just under the bounds still renders in full.
    let big = "{% for a in range(100000) %}{{ a % 10 }}{% endfor %}";
    assert_eq!(render_source("big.txt", big, &f).unwrap().len(), 100_000);
}

#[test]
fn user_files_override_and_add_templates() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("customer.txt"), "Hi {{ id }}\n").unwrap();
    std::fs::write(
        dir.path().join("press.txt"),
        "{# audience: executives #}\n{# title: Press line #}\nNo comment on {{ id }}.\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.txt"), b"\xff\xfe").unwrap();
    std::fs::write(
        dir.path().join("bad-header.txt"),
        "{# audience: press #}\nx\n",
    )
    .unwrap();
    let t = Templates::load(dir.path()).unwrap();
    let f = fields(Severity::P3);
    assert_eq!(t.render("customer", &f).unwrap(), format!("Hi {}\n", f.id));
    let c = t.info("customer").unwrap();
    assert!(c.user && c.audience == Audience::Customers);
    let p = t.info("press").unwrap();
    assert_eq!(
        (p.audience, p.title.as_str()),
        (Audience::Executives, "Press line")
    );
    assert_eq!(
        t.render("press", &f).unwrap(),
        format!("No comment on {}.\n", f.id)
    );
    let err = t.render("broken", &f).unwrap_err().to_string();
    assert!(err.contains("broken.txt: not valid UTF-8"), "{err}");
    let err = t.render("bad-header", &f).unwrap_err().to_string();
    assert!(
        err.contains("bad-header.txt:1: header: invalid audience"),
        "{err}"
    );
    assert_eq!(
        t.for_audience(Audience::Customers).unwrap().name,
        "customer"
    );
    assert!(Templates::load(&dir.path().join("missing")).is_ok());
}
