//! Matching a support report to an open incident by the words they share: "the same
//! outage" is a report whose distinctive words mostly appear in the incident's title,
//! description, alerts or earlier reports.

use std::collections::BTreeSet;

/// Words too common in reports to say anything about which outage they describe.
const STOPWORDS: &[&str] = &[
    "the",
    "and",
    "for",
    "are",
    "but",
    "not",
    "you",
    "all",
    "any",
    "can",
    "had",
    "her",
    "was",
    "one",
    "our",
    "out",
    "has",
    "have",
    "him",
    "his",
    "how",
    "its",
    "may",
    "new",
    "now",
    "see",
    "two",
    "who",
    "did",
    "get",
    "got",
    "let",
    "say",
    "she",
    "too",
    "use",
    "with",
    "this",
    "that",
    "from",
    "they",
    "will",
    "would",
    "there",
    "their",
    "what",
    "when",
    "where",
    "which",
    "while",
    "been",
    "being",
    "were",
    "into",
    "than",
    "then",
    "them",
    "these",
    "those",
    "some",
    "very",
    "just",
    "also",
    "only",
    "about",
    "after",
    "again",
    "could",
    "should",
    "does",
    "doing",
    "because",
    "customer",
    "customers",
    "user",
    "users",
    "issue",
    "issues",
    "problem",
    "problems",
    "please",
    "help",
    "since",
    "today",
    "still",
    "seems",
    "seem",
    "report",
    "reported",
    "reports",
    "ticket",
    "hi",
    "hello",
    "thanks",
];

/// The distinctive words of a text: lower-cased, letters and digits only, at least
/// three characters, stop words removed, a plural `s` dropped.
pub fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() >= 3 && !STOPWORDS.contains(&w.as_str()))
        .map(|w| match w.strip_suffix('s') {
            Some(stem) if stem.chars().count() >= 3 && !stem.ends_with('s') => stem.to_string(),
            _ => w,
        })
        .collect()
}

/// How much of the report's vocabulary the incident's text covers (0 to 1), and how many
/// words they share.
pub fn overlap(report: &BTreeSet<String>, incident: &BTreeSet<String>) -> (f64, usize) {
    if report.is_empty() || incident.is_empty() {
        return (0.0, 0);
    }
    let shared = report.intersection(incident).count();
    let smaller = report.len().min(incident.len());
    (shared as f64 / smaller as f64, shared)
}

/// Reports sharing at least this many words, covering at least this much of the smaller
/// vocabulary, describe the same outage.
pub const MIN_SHARED: usize = 2;
pub const MIN_OVERLAP: f64 = 0.4;

/// The best candidate (by overlap, then shared words) that passes the thresholds.
pub fn best_match<'a>(report: &str, candidates: &'a [(String, String)]) -> Option<(&'a str, f64)> {
    let mine = words(report);
    let mut best: Option<(&str, f64, usize)> = None;
    for (id, text) in candidates {
        let (score, shared) = overlap(&mine, &words(text));
        if shared < MIN_SHARED || score < MIN_OVERLAP {
            continue;
        }
        if best.is_none_or(|(_, s, n)| score > s || (score == s && shared > n)) {
            best = Some((id.as_str(), score, shared));
        }
    }
    best.map(|(id, score, _)| (id, score))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: &str, text: &str) -> (String, String) {
        (id.to_string(), text.to_string())
    }

    #[test]
    fn words_are_distinctive_and_stemmed() {
        let w = words("Customers can't LOGIN: the login pages time out; errors 502s");
        let got: Vec<&str> = w.iter().map(String::as_str).collect();
        assert_eq!(got, ["502", "error", "login", "page", "time"]);
    }

    #[test]
    fn reports_of_one_outage_match_its_incident() {
        let incidents = [
            c("ingest", "Data ingest stalled: consumer lag on partition 7"),
            c("login", "Login page returns 502 errors"),
        ];
        for report in [
            "Customer says the login page shows a 502 error",
            "Getting 502 errors when I try to log in on the login page",
            "login broken - 502",
        ] {
            assert_eq!(
                best_match(report, &incidents).map(|m| m.0),
                Some("login"),
                "{report}"
            );
        }
        assert_eq!(
            best_match("ingest of our data is stalled for an hour", &incidents).map(|m| m.0),
            Some("ingest")
        );
    }

    #[test]
    fn unrelated_or_vague_reports_do_not_match() {
        let incidents = [c("login", "Login page returns 502 errors")];
        for report in [
            "Invoices show the wrong currency",
            "login",
            "Please help, there is a problem",
            "",
        ] {
            assert_eq!(best_match(report, &incidents), None, "{report}");
        }
    }

    #[test]
    fn the_closest_incident_wins() {
        let incidents = [
            c("a", "Checkout payment declined for card payments"),
            c("b", "Checkout page slow"),
        ];
        assert_eq!(
            best_match("card payments declined at checkout", &incidents).map(|m| m.0),
            Some("a")
        );
    }
}
