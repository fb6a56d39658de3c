//! Checking a version's layers before they are stored: counts, names, zones, shift
//! lengths and restrictions, each problem named by its field.

use super::{
    Layer, MAX_LAYERS, MAX_PARTICIPANTS, MAX_RESTRICTIONS, MAX_SHIFT_HOURS, ShiftUnit, parse_zone,
};
use crate::validate::{Validation, text};

/// The longest shift in `unit`s, and the unit's name in messages.
fn longest(unit: ShiftUnit) -> (u32, &'static str) {
    match unit {
        ShiftUnit::Hours => (MAX_SHIFT_HOURS, "hours"),
        ShiftUnit::Days => (MAX_SHIFT_HOURS / 24, "days"),
        ShiftUnit::Weeks => (MAX_SHIFT_HOURS / (24 * 7), "weeks"),
    }
}

pub(super) fn layers(v: &mut Validation, prefix: &str, layers: &[Layer]) {
    if layers.is_empty() || layers.len() > MAX_LAYERS {
        v.push(
            prefix,
            format!("must have between 1 and {MAX_LAYERS} layers"),
        );
    }
    for (i, layer) in layers.iter().enumerate() {
        let field = |name: &str| format!("{prefix}[{i}].{name}");
        v.check(&field("name"), text(&layer.name, 100));
        if let Some(zone) = &layer.time_zone {
            v.check(&field("time_zone"), parse_zone(zone));
        }
        let n = layer.participants.len();
        if n == 0 || n > MAX_PARTICIPANTS {
            v.push(
                &field("participants"),
                format!("must name between 1 and {MAX_PARTICIPANTS} participants"),
            );
        }
        for (j, p) in layer.participants.iter().enumerate() {
            if p.trim().is_empty() {
                v.push(
                    &format!("{prefix}[{i}].participants[{j}]"),
                    "must not be empty",
                );
            }
        }
        let (max, unit) = longest(layer.shift_unit);
        if layer.shift_length == 0 || layer.shift_length > max {
            v.push(
                &field("shift_length"),
                format!("must be between 1 and {max} {unit}"),
            );
        }
        if layer.restrictions.len() > MAX_RESTRICTIONS {
            v.push(
                &field("restrictions"),
                format!("must have at most {MAX_RESTRICTIONS} restrictions"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Day, Restriction, parse_zone, validate_layers};
    use super::*;
    use jiff::civil::{date, time};

    fn good() -> Layer {
        Layer {
            name: "Primary".into(),
            time_zone: Some("Europe/London".into()),
            participants: vec!["u1".into(), "u2".into()],
            shift_length: 1,
            shift_unit: ShiftUnit::Weeks,
            start: date(2026, 1, 5),
            handoff_time: time(9, 0, 0, 0),
            restrictions: vec![Restriction {
                days: vec![Day::Mon, Day::Mon],
                start: time(8, 0, 0, 0),
                end: time(16, 0, 0, 0),
            }],
        }
    }

    fn errors(prefix: &str, layers: &[Layer]) -> Vec<(String, String)> {
        let mut v = Validation::new();
        validate_layers(&mut v, prefix, layers);
        match v.finish() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| (e.field, e.reason)).collect(),
        }
    }

    #[test]
    fn zones() {
        assert!(parse_zone("Europe/London").is_ok());
        assert!(parse_zone("UTC").is_ok());
        assert!(parse_zone("Pacific/Chatham").is_ok());
        assert_eq!(
            parse_zone("Mars/Base").unwrap_err().0,
            "unknown time zone \"Mars/Base\"; use an IANA name such as Europe/London"
        );
        assert_eq!(parse_zone("  ").unwrap_err().0, "must name a time zone");
        assert!(parse_zone("").is_err());
    }

    #[test]
    fn a_good_layer_passes() {
        assert_eq!(errors("layers", &[good()]), vec![]);
        let mut hours = good();
        hours.shift_unit = ShiftUnit::Hours;
        hours.shift_length = MAX_SHIFT_HOURS;
        hours.time_zone = None;
        hours.restrictions = vec![];
        assert_eq!(errors("layers", &[hours]), vec![]);
    }

    #[test]
    fn layer_count() {
        let msg = "must have between 1 and 10 layers".to_string();
        assert_eq!(errors("layers", &[]), vec![("layers".into(), msg.clone())]);
        let many = vec![good(); MAX_LAYERS + 1];
        assert_eq!(
            errors("versions[1].layers", &many),
            vec![("versions[1].layers".into(), msg)]
        );
        assert_eq!(errors("layers", &vec![good(); MAX_LAYERS]), vec![]);
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut bad = good();
        bad.name = " ".into();
        bad.time_zone = Some("Mars/Base".into());
        bad.participants = vec!["u1".into(), "".into()];
        bad.shift_length = 13;
        bad.restrictions = vec![good().restrictions[0].clone(); MAX_RESTRICTIONS + 1];
        let fields: Vec<String> = errors("versions[0].layers", &[good(), bad])
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        assert_eq!(
            fields,
            vec![
                "versions[0].layers[1].name",
                "versions[0].layers[1].time_zone",
                "versions[0].layers[1].participants[1]",
                "versions[0].layers[1].shift_length",
                "versions[0].layers[1].restrictions",
            ]
        );
    }

    #[test]
    fn shift_length_limits_by_unit() {
        for (unit, max) in [
            (ShiftUnit::Hours, 2016),
            (ShiftUnit::Days, 84),
            (ShiftUnit::Weeks, 12),
        ] {
            let mut l = good();
            l.shift_unit = unit;
            l.shift_length = max;
            assert_eq!(errors("layers", std::slice::from_ref(&l)), vec![]);
            l.shift_length = max + 1;
            assert_eq!(
                errors("layers", std::slice::from_ref(&l)).len(),
                1,
                "{unit:?}"
            );
            l.shift_length = 0;
            assert_eq!(
                errors("layers", &[l])[0],
                (
                    "layers[0].shift_length".to_string(),
                    format!("must be between 1 and {max} {}", longest(unit).1)
                )
            );
        }
    }

    #[test]
    fn participant_count() {
        let mut none = good();
        none.participants = vec![];
        let mut many = good();
        many.participants = (0..=MAX_PARTICIPANTS).map(|i| format!("u{i}")).collect();
        for l in [none, many] {
            assert_eq!(
                errors("layers", &[l]),
                vec![(
                    "layers[0].participants".to_string(),
                    "must name between 1 and 100 participants".to_string()
                )]
            );
        }
    }
}
