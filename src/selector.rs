//! Label selectors with the API server's semantics: `matchLabels` and every `matchExpressions`
//! entry must all hold (AND); an empty selector `{}` selects every pod of the namespace.

use crate::yaml::{Json, Map};

/// Does `selector` (a `metav1.LabelSelector` as JSON) select pods labelled `labels`?
/// A malformed selector selects nothing.
pub fn matches(selector: &Json<'_>, labels: &Map<'_>) -> bool {
    let Some(sel) = selector.as_object() else {
        return false;
    };
    let label = |k: &str| labels.get(k).and_then(Json::as_str);
    let match_labels = sel.get("matchLabels").and_then(Json::as_object);
    if !match_labels
        .into_iter()
        .flatten()
        .all(|(k, v)| label(k).is_some() && label(k) == v.as_str())
    {
        return false;
    }
    let exprs = sel.get("matchExpressions").and_then(Json::as_array);
    exprs.into_iter().flatten().all(|e| {
        let key = e.get("key").and_then(Json::as_str).unwrap_or_default();
        let values: Vec<&str> = e
            .get("values")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .collect();
        match (e.get("operator").and_then(Json::as_str), label(key)) {
            (Some("In"), Some(v)) => values.contains(&v),
            (Some("In"), None) => false,
            (Some("NotIn"), Some(v)) => !values.contains(&v),
            (Some("NotIn"), None) => true,
            (Some("Exists"), v) => v.is_some(),
            (Some("DoesNotExist"), v) => v.is_none(),
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn labels(v: Json<'static>) -> Map<'static> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn match_labels_and_expressions_are_anded() {
        let pod = labels(json!({"app": "web", "tier": "front"}));
        assert!(matches(&json!({"matchLabels": {"app": "web"}}), &pod));
        assert!(!matches(
            &json!({"matchLabels": {"app": "web", "x": "y"}}),
            &pod
        ));
        let sel = json!({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["back"]}]});
        assert!(!matches(&sel, &pod));
        assert!(matches(
            &json!({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["back"]}]}),
            &pod
        ));
        assert!(matches(
            &json!({"matchExpressions": [{"key": "zzz", "operator": "DoesNotExist"}]}),
            &pod
        ));
        assert!(!matches(
            &json!({"matchExpressions": [{"key": "app", "operator": "Bogus"}]}),
            &pod
        ));
    }

    #[test]
    fn empty_selector_selects_everything_and_null_nothing() {
        let pod = labels(json!({"app": "web"}));
        assert!(matches(&json!({}), &pod));
        assert!(!matches(&Json::Null, &pod));
    }
}
