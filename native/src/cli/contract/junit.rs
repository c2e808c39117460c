//! The results as JUnit XML, the report format CI servers (GitLab, Jenkins, GitHub's test
//! reporters) read: one test suite for the API, one test case per operation, a `<failure>`
//! with every problem, a `<skipped>` with the reason. Written by `quick-junit` (see the
//! workspace manifest for why).

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{CliError, Outcome, Verdict};

/// The XML text for `outcomes` of the API called `name`.
pub fn report(name: &str, outcomes: &[Outcome]) -> Result<String, CliError> {
    let mut suite = TestSuite::new(name);
    for outcome in outcomes {
        let mut status = match outcome.verdict {
            Verdict::Pass => TestCaseStatus::success(),
            Verdict::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
            Verdict::Skip => TestCaseStatus::skipped(),
        };
        if outcome.verdict != Verdict::Pass {
            status.set_message(outcome.details.first().cloned().unwrap_or_default());
            status.set_description(outcome.details.join("\n"));
        }
        let mut case = TestCase::new(&outcome.operation, status);
        case.set_classname(format!("{name}: {}", outcome.request));
        case.set_time(outcome.time);
        suite.add_test_case(case);
    }
    let mut report = Report::new("gatehouse test");
    report.add_test_suite(suite);
    report.to_string().map_err(|e| CliError::Refused(format!("cannot write JUnit XML: {e}")))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn junit_counts_each_verdict_and_keeps_every_problem() {
        let outcome = |operation: &str, verdict, details: &[&str]| Outcome {
            operation: operation.into(),
            request: "GET /pets".into(),
            status: Some(200),
            verdict,
            details: details.iter().map(|d| d.to_string()).collect(),
            time: Duration::from_millis(3),
        };
        let outcomes = [
            outcome("listPets", Verdict::Pass, &[]),
            outcome("getPet", Verdict::Fail, &["status 500 is not documented", "a <second> & \"third\""]),
            outcome("addPet", Verdict::Skip, &["no example for the required request body"]),
        ];
        let xml = report("Pets", &outcomes).unwrap();
        let parsed = Report::deserialize_from_str(&xml).unwrap();
        assert_eq!((parsed.tests, parsed.failures, parsed.errors), (3, 1, 0));
        let suite = &parsed.test_suites[0];
        assert_eq!((suite.name.as_str(), suite.skipped), ("Pets", 1));
        let failed = &suite.test_cases[1];
        assert_eq!(failed.name.as_str(), "getPet");
        let TestCaseStatus::NonSuccess { message, description, .. } = &failed.status else { panic!("{xml}") };
        assert_eq!(message.as_ref().map(|m| m.as_str()), Some("status 500 is not documented"));
        assert!(description.as_ref().is_some_and(|d| d.as_str().ends_with("a <second> & \"third\"")), "{xml}");
    }
}
