//! The policy loader on arbitrary file text: an error or a policy, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for profile in [None, Some("plane-enterprise")] {
        if let Ok(policy) = helm_ha::policy::load(profile, Some(("fuzz.yaml", text))) {
            // A loaded policy prints and loads again (what `helm-ha policy` promises).
            let printed = helm_ha::yaml::to_yaml(&serde_json::to_value(&policy).unwrap());
            helm_ha::policy::load(None, Some(("printed.yaml", &printed))).unwrap_or_else(|e| panic!("printed policy does not load: {e}\n{printed}"));
        }
    }
});
