//! Senders' severity and priority words (PagerDuty, Opsgenie, Prometheus labels, generic
//! webhooks) mapped onto Triad's SEV1..SEV4.

use triad_domain::severity::Severity;

/// Maps a sender's severity word, ignoring case and surrounding blanks. `None` for a word
/// no mapping knows (the caller keeps the event, without a severity).
pub fn map(s: &str) -> Option<Severity> {
    let word = s.trim().to_ascii_lowercase();
    let severity = match word.as_str() {
        "critical" | "crit" | "fatal" | "emergency" | "alert" | "page" | "p1" | "sev1"
        | "sev-1" | "1" => Severity::Sev1,
        "error" | "err" | "high" | "major" | "p2" | "sev2" | "sev-2" | "2" => Severity::Sev2,
        "warning" | "warn" | "medium" | "moderate" | "minor" | "p3" | "sev3" | "sev-3" | "3" => {
            Severity::Sev3
        }
        "info" | "informational" | "low" | "notice" | "debug" | "p4" | "p5" | "sev4" | "sev-4"
        | "4" | "5" => Severity::Sev4,
        _ => return None,
    };
    Some(severity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_word_maps() {
        let table: [(Severity, &[&str]); 4] = [
            (
                Severity::Sev1,
                &[
                    "critical",
                    "crit",
                    "fatal",
                    "emergency",
                    "alert",
                    "page",
                    "p1",
                    "sev1",
                    "sev-1",
                    "1",
                ],
            ),
            (
                Severity::Sev2,
                &["error", "err", "high", "major", "p2", "sev2", "sev-2", "2"],
            ),
            (
                Severity::Sev3,
                &[
                    "warning", "warn", "medium", "moderate", "minor", "p3", "sev3", "sev-3", "3",
                ],
            ),
            (
                Severity::Sev4,
                &[
                    "info",
                    "informational",
                    "low",
                    "notice",
                    "debug",
                    "p4",
                    "p5",
                    "sev4",
                    "sev-4",
                    "4",
                    "5",
                ],
            ),
        ];
        for (want, words) in table {
            for word in words {
                assert_eq!(map(word), Some(want), "{word}");
                assert_eq!(map(&word.to_uppercase()), Some(want), "{word}");
                assert_eq!(map(&format!("  {word}\t")), Some(want), "{word}");
            }
        }
    }

    #[test]
    fn unknown_words_map_to_none() {
        for word in [
            "",
            " ",
            "sev 1",
            "p6",
            "6",
            "0",
            "crítical",
            "CRITICALLY",
            "none",
        ] {
            assert_eq!(map(word), None, "{word:?}");
        }
    }
}
