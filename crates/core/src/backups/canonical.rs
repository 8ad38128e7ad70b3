//! The "canonical v1 backup shape" that local apps may give their JSON
//! backups: recognising it, counting its records per entry type, and making
//! the human-readable copy used by the user's data export. Backups are
//! untrusted app data, so every check is structural and nothing here panics;
//! the walk has a fixed depth (top level → cells → records), so arbitrarily
//! nested or huge input cannot exhaust the stack. The app's own `_summary` is
//! never believed: counts always come from the records themselves.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// The entry type counted for records that have no string `entryType`.
const UNKNOWN_ENTRY_TYPE: &str = "unknown";

/// The record fields that the human-readable export keeps.
const READABLE_RECORD_FIELDS: [&str; 4] =
    ["entryType", "actionHash", "createdAtMs", "human_readable"];

/// Counts of a canonical backup, as `/backup/list` reports them in `latest_summary`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// Records per `entryType` (records without a string entryType count
    /// under "unknown"). BTreeMap so output order is stable.
    pub counts_by_entry_type: BTreeMap<String, u64>,
    pub total_records: u64,
}

/// The cells of `data` when it has the canonical v1 shape: a top-level object
/// with `"version": 1` (the integer) and a `cells` array whose every cell is
/// an object with a `records` array of canonical records.
fn canonical_cells(data: &Value) -> Option<&[Value]> {
    let top = data.as_object()?;
    if top.get("version").and_then(Value::as_u64) != Some(1) {
        return None;
    }
    let cells = top.get("cells")?.as_array()?;
    for cell in cells {
        if !cell_records(cell)?.iter().all(is_canonical_record) {
            return None;
        }
    }
    Some(cells)
}

/// The `records` array of a cell, when the cell is an object that has one.
fn cell_records(cell: &Value) -> Option<&[Value]> {
    cell.as_object()?
        .get("records")?
        .as_array()
        .map(Vec::as_slice)
}

/// A record is an object with a non-null `human_readable` and a `raw_record`
/// object holding a string `entry_b64`.
fn is_canonical_record(record: &Value) -> bool {
    let Some(record) = record.as_object() else {
        return false;
    };
    let readable = record.get("human_readable").is_some_and(|v| !v.is_null());
    let raw = record
        .get("raw_record")
        .and_then(Value::as_object)
        .and_then(|raw| raw.get("entry_b64"))
        .is_some_and(Value::is_string);
    readable && raw
}

/// Some(summary) when `data` has the canonical v1 shape, computed from the records themselves
/// (never trust the app's own `_summary`).
pub fn summarize(data: &Value) -> Option<Summary> {
    let cells = canonical_cells(data)?;
    let mut summary = Summary {
        counts_by_entry_type: BTreeMap::new(),
        total_records: 0,
    };
    for record in cells.iter().filter_map(cell_records).flatten() {
        let entry_type = record
            .get("entryType")
            .and_then(Value::as_str)
            .unwrap_or(UNKNOWN_ENTRY_TYPE);
        let count = summary
            .counts_by_entry_type
            .entry(entry_type.to_owned())
            .or_insert(0);
        *count = count.saturating_add(1);
        summary.total_records = summary.total_records.saturating_add(1);
    }
    Some(summary)
}

/// The human-readable form of a backup for the user's data export: for canonical data, a copy where
/// each record keeps `entryType`, `actionHash`, `createdAtMs` (when present) and `human_readable`,
/// and drops `raw_record` (the base64 bytes), while all other top-level and cell-level fields are
/// kept verbatim; for non-canonical data, the data unchanged.
pub fn readable_export(data: &Value) -> Value {
    let (Some(cells), Some(top)) = (canonical_cells(data), data.as_object()) else {
        return data.clone();
    };
    let mut out = Map::new();
    for (key, value) in top {
        let value = if key == "cells" {
            Value::Array(cells.iter().map(readable_cell).collect())
        } else {
            value.clone()
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

/// A canonical cell with its records reduced to their readable fields.
fn readable_cell(cell: &Value) -> Value {
    let Some(cell) = cell.as_object() else {
        return cell.clone();
    };
    let mut out = Map::new();
    for (key, value) in cell {
        let value = match (key.as_str(), value) {
            ("records", Value::Array(records)) => {
                Value::Array(records.iter().map(readable_record).collect())
            }
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

/// A canonical record with only the fields a person can read.
fn readable_record(record: &Value) -> Value {
    let Some(record) = record.as_object() else {
        return record.clone();
    };
    let kept = READABLE_RECORD_FIELDS
        .iter()
        .filter_map(|&field| Some((field.to_owned(), record.get(field)?.clone())));
    Value::Object(kept.collect())
}

/// "12 Games, 84 Moves"-style short text for UIs: entry types sorted by count descending then name,
/// each as "<count> <entryType>" ; empty string for zero records. (No pluralisation tricks: use the
/// entryType as written.)
pub fn describe(summary: &Summary) -> String {
    let mut entries: Vec<(&String, u64)> = summary
        .counts_by_entry_type
        .iter()
        .filter(|&(_, &count)| count > 0)
        .map(|(name, &count)| (name, count))
        .collect();
    entries.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    entries
        .iter()
        .map(|(name, count)| format!("{count} {name}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(entry_type: &str) -> Value {
        json!({
            "entryType": entry_type,
            "actionHash": "uhCkkA",
            "createdAtMs": 1716969780000_u64,
            "human_readable": {"name": "x"},
            "raw_record": {"entry_b64": "gqRuYW1l", "action_address": "uhCkkA", "action_type": "Create"}
        })
    }

    fn spec_example() -> Value {
        json!({
            "version": 1,
            "_readme": "read me",
            "license": "CC0",
            "app": {"name": "YourApp", "client_id": "your-app"},
            "agent_pub_key": "uhCAkX",
            "exported_at_iso": "2026-05-29T03:42:11Z",
            "_summary": {"countsByEntryType": {"Game": 12, "Move": 84}, "totalRecords": 96},
            "cells": [
                {"role_name": "games", "_readme": "the games cell", "records": [
                    {"entryType": "Game", "actionHash": "uhCkk1", "createdAtMs": 1716969780000_u64,
                     "human_readable": {"name": "Friday Night Chess"},
                     "raw_record": {"entry_b64": "gqRuYW1l", "action_address": "uhCkk1", "action_type": "Create"}},
                    record("Move"),
                    record("Move")
                ]},
                {"role_name": "moves", "records": [record("Move")]}
            ]
        })
    }

    fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
        pairs.iter().map(|&(k, v)| (k.to_owned(), v)).collect()
    }

    #[test]
    fn spec_example_is_counted_from_its_records() {
        let summary = summarize(&spec_example()).expect("canonical");
        // The app's own `_summary` (12 / 84) is ignored.
        assert_eq!(
            summary.counts_by_entry_type,
            counts(&[("Game", 1), ("Move", 3)])
        );
        assert_eq!(summary.total_records, 4);
    }

    #[test]
    fn record_without_entry_b64_is_not_canonical() {
        let mut data = spec_example();
        data["cells"][1]["records"][0]["raw_record"]
            .as_object_mut()
            .unwrap()
            .remove("entry_b64");
        assert_eq!(summarize(&data), None);

        let mut data = spec_example();
        data["cells"][1]["records"][0]["raw_record"]["entry_b64"] = json!(42);
        assert_eq!(summarize(&data), None);

        let mut data = spec_example();
        data["cells"][0]["records"][0]["raw_record"] = json!("gqRuYW1l");
        assert_eq!(summarize(&data), None);
    }

    #[test]
    fn record_without_human_readable_is_not_canonical() {
        let mut data = spec_example();
        data["cells"][0]["records"][1]["human_readable"] = Value::Null;
        assert_eq!(summarize(&data), None);

        let mut data = spec_example();
        data["cells"][0]["records"][1]
            .as_object_mut()
            .unwrap()
            .remove("human_readable");
        assert_eq!(summarize(&data), None);
    }

    #[test]
    fn other_versions_are_not_canonical() {
        for version in [json!(2), json!("1"), json!(1.0), json!(true), Value::Null] {
            let mut data = spec_example();
            data["version"] = version.clone();
            assert_eq!(summarize(&data), None, "version {version}");
        }
        let mut data = spec_example();
        data.as_object_mut().unwrap().remove("version");
        assert_eq!(summarize(&data), None);
    }

    #[test]
    fn non_objects_are_not_canonical() {
        for data in [
            json!([1, 2]),
            json!("text"),
            json!(1),
            Value::Null,
            json!({}),
        ] {
            assert_eq!(summarize(&data), None, "{data}");
        }
        for bad in [
            json!({"version": 1}),
            json!({"version": 1, "cells": {}}),
            json!({"version": 1, "cells": [1]}),
            json!({"version": 1, "cells": [{}]}),
            json!({"version": 1, "cells": [{"records": {}}]}),
            json!({"version": 1, "cells": [{"records": ["x"]}]}),
        ] {
            assert_eq!(summarize(&bad), None, "{bad}");
        }
    }

    #[test]
    fn empty_cells_count_zero() {
        let zero = Summary {
            counts_by_entry_type: BTreeMap::new(),
            total_records: 0,
        };
        assert_eq!(
            summarize(&json!({"version": 1, "cells": []})),
            Some(zero.clone())
        );
        let empty_records = json!({"version": 1, "cells": [{"records": []}, {"records": []}]});
        assert_eq!(summarize(&empty_records), Some(zero.clone()));
        assert_eq!(describe(&zero), "");
    }

    #[test]
    fn records_without_string_entry_type_count_as_unknown() {
        let raw = json!({"entry_b64": ""});
        let data = json!({"version": 1, "cells": [{"records": [
            {"human_readable": {}, "raw_record": raw},
            {"entryType": 7, "human_readable": "seven", "raw_record": raw},
            {"entryType": null, "human_readable": [], "raw_record": raw},
            {"entryType": "Poll", "human_readable": 0, "raw_record": raw}
        ]}]});
        let summary = summarize(&data).expect("canonical");
        assert_eq!(
            summary.counts_by_entry_type,
            counts(&[("Poll", 1), ("unknown", 3)])
        );
        assert_eq!(summary.total_records, 4);
    }

    #[test]
    fn readable_export_drops_raw_record_and_keeps_the_rest() {
        let mut data = spec_example();
        data["app_keys"] =
            json!({"signing": ["uhCAkK1", "uhCAkK2"], "nested": {"a": [1, {"b": null}]}});
        data["cells"][0]["records"][0]["extra"] = json!("not kept");
        data["cells"][1]["records"][0]
            .as_object_mut()
            .unwrap()
            .remove("createdAtMs");
        let out = readable_export(&data);

        // Every top-level field other than `cells` is kept verbatim.
        let (top_in, top_out) = (data.as_object().unwrap(), out.as_object().unwrap());
        assert_eq!(top_in.len(), top_out.len());
        for (key, value) in top_in.iter().filter(|(k, _)| *k != "cells") {
            assert_eq!(top_out.get(key), Some(value), "{key}");
        }
        // Cell-level fields too.
        assert_eq!(out["cells"][0]["role_name"], "games");
        assert_eq!(out["cells"][0]["_readme"], "the games cell");
        assert_eq!(out["cells"][1]["role_name"], "moves");

        assert_eq!(
            out["cells"][0]["records"][0],
            json!({
                "entryType": "Game",
                "actionHash": "uhCkk1",
                "createdAtMs": 1716969780000_u64,
                "human_readable": {"name": "Friday Night Chess"}
            })
        );
        // `createdAtMs` only when present.
        assert_eq!(
            out["cells"][1]["records"][0],
            json!({"entryType": "Move", "actionHash": "uhCkkA", "human_readable": {"name": "x"}})
        );
        assert!(!out.to_string().contains("entry_b64"));
        // Still canonical-looking minus the bytes, so it is no longer canonical.
        assert_eq!(summarize(&out), None);
    }

    #[test]
    fn readable_export_leaves_non_canonical_data_unchanged() {
        let mut data = spec_example();
        data["version"] = json!(2);
        assert_eq!(readable_export(&data), data);
        for data in [json!("text"), json!([1]), Value::Null, json!({"cells": []})] {
            assert_eq!(readable_export(&data), data);
        }
    }

    #[test]
    fn describe_sorts_by_count_then_name() {
        let summary = Summary {
            counts_by_entry_type: counts(&[
                ("Move", 84),
                ("Game", 12),
                ("Player", 12),
                ("Chat", 84),
                ("Zero", 0),
            ]),
            total_records: 192,
        };
        assert_eq!(describe(&summary), "84 Chat, 84 Move, 12 Game, 12 Player");
        let one = Summary {
            counts_by_entry_type: counts(&[("Game", 1)]),
            total_records: 1,
        };
        assert_eq!(describe(&one), "1 Game");
    }

    /// Take apart a deeply nested chain of one-element arrays without
    /// recursion (serde_json's own drop would recurse once per level).
    fn drop_iteratively(mut value: Value) {
        while let Value::Array(mut items) = value {
            value = items.pop().unwrap_or(Value::Null);
        }
    }

    #[test]
    fn deep_and_wide_input_does_not_overflow() {
        // Far deeper than the test thread's stack could recurse through.
        let mut deep = json!("leaf");
        for _ in 0..200_000 {
            deep = Value::Array(vec![deep]);
        }
        let mut data = json!({"version": 1, "cells": [{"records": [
            {"entryType": "Deep", "human_readable": true, "raw_record": {"entry_b64": ""}}
        ]}]});
        data["cells"][0]["records"][0]["raw_record"]["deep"] = deep;
        assert_eq!(summarize(&data).map(|s| s.total_records), Some(1));
        // The export drops raw_record without walking it.
        let out = readable_export(&data);
        assert_eq!(out["cells"][0]["records"][0]["entryType"], "Deep");
        let deep = data["cells"][0]["records"][0]["raw_record"]["deep"].take();
        drop_iteratively(deep);

        // Many records.
        let records: Vec<Value> = (0..50_000)
            .map(|i| record(if i % 2 == 0 { "A" } else { "B" }))
            .collect();
        let wide = json!({"version": 1, "cells": [{"records": records}]});
        let summary = summarize(&wide).expect("canonical");
        assert_eq!(summary.total_records, 50_000);
        assert_eq!(describe(&summary), "25000 A, 25000 B");
    }
}
