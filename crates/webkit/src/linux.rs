use std::ffi::{c_char, c_int, c_uint, CStr};

use webkit2gtk::glib::translate::ToGlibPtr;
use webkit2gtk::Settings;

/// WebKitGTK's opaque types and the functions of its feature API, as `webkit/WebKitFeature.h`
/// and `webkit/WebKitSettings.h` declare them (WebKitGTK 2.42). The library itself is linked
/// by `webkit2gtk-sys`.
mod ffi {
    use std::ffi::{c_char, c_int, c_uint};

    use webkit2gtk::ffi::WebKitSettings;

    #[repr(C)]
    pub struct WebKitFeature {
        _opaque: [u8; 0],
    }

    #[repr(C)]
    pub struct WebKitFeatureList {
        _opaque: [u8; 0],
    }

    extern "C" {
        /// Every feature this WebKitGTK knows (transfer full: unref the list).
        pub fn webkit_settings_get_all_features() -> *mut WebKitFeatureList;
        pub fn webkit_feature_list_get_length(list: *mut WebKitFeatureList) -> c_uint;
        /// The feature at `index` (transfer none: valid while the list is).
        pub fn webkit_feature_list_get(
            list: *mut WebKitFeatureList,
            index: c_uint,
        ) -> *mut WebKitFeature;
        pub fn webkit_feature_list_unref(list: *mut WebKitFeatureList);
        /// The feature's identifier (transfer none, NUL-terminated, never NULL).
        pub fn webkit_feature_get_identifier(feature: *mut WebKitFeature) -> *const c_char;
        pub fn webkit_settings_get_feature_enabled(
            settings: *mut WebKitSettings,
            feature: *mut WebKitFeature,
        ) -> c_int;
        pub fn webkit_settings_set_feature_enabled(
            settings: *mut WebKitSettings,
            feature: *mut WebKitFeature,
            enabled: c_int,
        );
    }
}

/// Whether feature `identifier` (WebKit's name, e.g. `AsyncOverflowScrolling`) is on in
/// `settings`; `None` when this WebKitGTK has no feature of that name.
pub fn feature(settings: &Settings, identifier: &str) -> Option<bool> {
    with_feature(identifier, |feature| {
        let raw: *mut webkit2gtk::ffi::WebKitSettings = settings.to_glib_none().0;
        #[allow(unsafe_code)]
        // SAFETY: `raw` is a live WebKitSettings (borrowed from `settings` for this call) and
        // `feature` one of WebKit's features, alive while `with_feature` holds its list.
        let enabled = unsafe { ffi::webkit_settings_get_feature_enabled(raw, feature) };
        enabled != 0
    })
}

/// Turns feature `identifier` on or off in `settings` (a webview's settings: its pages take the
/// change from their next layout). `false` when this WebKitGTK has no feature of that name, and
/// nothing changed.
pub fn set_feature(settings: &Settings, identifier: &str, enabled: bool) -> bool {
    with_feature(identifier, |feature| {
        let raw: *mut webkit2gtk::ffi::WebKitSettings = settings.to_glib_none().0;
        #[allow(unsafe_code)]
        // SAFETY: as in `feature`; a gboolean is a C int.
        unsafe {
            ffi::webkit_settings_set_feature_enabled(raw, feature, c_int::from(enabled));
        }
    })
    .is_some()
}

/// Finds feature `identifier` among every feature WebKit knows and calls `f` with it.
fn with_feature<T>(identifier: &str, f: impl FnOnce(*mut ffi::WebKitFeature) -> T) -> Option<T> {
    #[allow(unsafe_code)]
    // SAFETY: takes no arguments; the list it returns is ours to unref, below.
    let list = unsafe { ffi::webkit_settings_get_all_features() };
    if list.is_null() {
        return None;
    }
    #[allow(unsafe_code)]
    // SAFETY: `list` is the live list just returned.
    let length: c_uint = unsafe { ffi::webkit_feature_list_get_length(list) };
    let found = (0..length)
        .map(|index| {
            #[allow(unsafe_code)]
            // SAFETY: `index` is below the list's length.
            unsafe {
                ffi::webkit_feature_list_get(list, index)
            }
        })
        .find(|&feature| {
            #[allow(unsafe_code)]
            // SAFETY: `feature` comes from the live list; WebKit returns a NUL-terminated
            // identifier that lives as long as the feature.
            let name: &CStr = unsafe {
                CStr::from_ptr(ffi::webkit_feature_get_identifier(feature).cast::<c_char>())
            };
            name.to_bytes() == identifier.as_bytes()
        });
    let result = found.map(f);
    #[allow(unsafe_code)]
    // SAFETY: `list` came from `webkit_settings_get_all_features` (transfer full), is unreffed
    // once, and no feature taken from it is used after this.
    unsafe {
        ffi::webkit_feature_list_unref(list);
    }
    result
}
