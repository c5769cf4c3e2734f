/// A loaded program's state and temperature, as varnishd keeps them (`vcl.state`,
/// `vcl.list`): a warm program runs its probes and reports its backends' counters; a cold one
/// does neither. `auto` programs go cold `vcl_cooldown` after they were last active (or
/// loaded), and warm again when `vcl.use` makes them active. A value: the registry holds one
/// per program and applies the actions its methods return.
public struct VCLTemperature: Sendable, Equatable {
    /// What `vcl.state` (or `vcl.load NAME FILE STATE`) asked for.
    public enum Setting: String, Sendable, CaseIterable {
        case auto, cold, warm
    }

    public private(set) var setting: Setting
    public private(set) var isWarm: Bool
    /// Since when an unused auto program has been cooling (nil: it is not).
    private(set) var coolingSince: Double?

    /// A program just loaded: warm unless loaded `cold`.
    init(setting: Setting = .auto, now: Double) {
        self.setting = setting
        self.isWarm = setting != .cold
        self.coolingSince = nil
    }

    /// `vcl.state`'s word for it: `cold` or `warm`.
    public var temperatureName: String { isWarm ? "warm" : "cold" }

    /// Starts or stops the cooldown: only an auto, warm program that is neither active nor
    /// labelled cools (varnishd's `mgt_vcl_set_cooldown`).
    mutating func resetCooldown(now: Double, isActive: Bool, isLabelled: Bool) {
        coolingSince = !isActive && !isLabelled && setting == .auto && isWarm ? now : nil
    }

    /// `vcl.state` on a program that is not active (varnishd refuses `cold` for the active
    /// one before this). Returns whether it is now warm.
    mutating func set(_ newSetting: Setting, isActive: Bool, isLabelled: Bool, now: Double) {
        setting = newSetting
        switch newSetting {
        case .warm: isWarm = true
        case .cold: isWarm = isActive
        case .auto: if isActive { isWarm = true }
        }
        resetCooldown(now: now, isActive: isActive, isLabelled: isLabelled)
    }

    /// `vcl.use` (or a label's target being used): warm, and not cooling while active.
    mutating func warmForUse(now: Double, isLabelled: Bool) {
        isWarm = true
        resetCooldown(now: now, isActive: true, isLabelled: isLabelled)
    }

    /// True when it has cooled for `cooldown` seconds by `now`: it is cold from now on.
    mutating func cool(now: Double, cooldown: Double) -> Bool {
        guard let since = coolingSince, since + cooldown < now else { return false }
        isWarm = false
        coolingSince = nil
        return true
    }
}
