//! Inputs found by fuzzing (fuzz/, docs/FUZZING.md) that crashed, hung or
//! broke a promise, kept as regression tests of the public parsers.

use std::path::PathBuf;

use warroom::detect::rules::RuleSet;
use warroom::detect::sigma;

fn load(text: &str) -> RuleSet {
    let mut set = RuleSet::default();
    set.add_texts(&[(PathBuf::from("f.yml"), text.to_string())]);
    set
}

/// Runs `f` on a thread with the stack a console worker gets (2 MiB), so a
/// recursion that only a larger main-thread stack survives still fails.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn deeply_nested_sigma_conditions_are_refused_not_a_stack_overflow() {
    let names = vec!["a".to_string()];
    let deep = format!("{}a{}", "(".repeat(100_000), ")".repeat(100_000));
    let err = on_small_stack(move || sigma::parse_condition(&deep, &names).unwrap_err());
    assert!(err.contains("nested"), "{err}");
    let names = vec!["a".to_string()];
    let nots = format!("{}a", "not ".repeat(100_000));
    let err = on_small_stack(move || sigma::parse_condition(&nots, &names).unwrap_err());
    assert!(err.contains("nested"), "{err}");
}

#[test]
fn deeply_nested_yaml_is_a_problem_not_a_stack_overflow() {
    for text in [
        "[".repeat(200_000),
        "{a: ".repeat(100_000),
        format!("rules:\n{}", "- ".repeat(100_000)),
    ] {
        let set = on_small_stack(move || load(&text));
        assert_eq!(set.rules.len(), 0);
        assert_eq!(set.problems.len(), 1, "{:?}", set.problems);
        assert!(set.problems[0].to_string().starts_with("f.yml:"));
    }
}

#[test]
fn deep_block_nesting_names_its_line_and_column() {
    let text = format!("rules:\n  - {}rule: x\n", "- ".repeat(100));
    let set = load(&text);
    let p = set.problems[0].to_string();
    assert!(p.starts_with("f.yml:2:"), "{p}");
    assert!(p.contains("nested more than 64 levels"), "{p}");
}

#[test]
fn many_stars_in_a_selection_pattern_match_in_linear_time() {
    // Found by the condition target (a 10 s timeout): each '*' multiplied
    // the work of the recursive wildcard match.
    let names: Vec<String> = (0..16).map(|i| format!("{}{i}", "a".repeat(300))).collect();
    let cond = format!("1 of {}b", "a*".repeat(12));
    let err = sigma::parse_condition(&cond, &names).unwrap_err();
    assert!(err.contains("names no selection"), "{err}");
    let c = sigma::parse_condition("1 of a*a*a*0", &names);
    assert!(c.is_ok(), "{c:?}");
    let c = sigma::parse_condition("all of *a*", &names);
    assert!(c.is_ok(), "{c:?}");
}
