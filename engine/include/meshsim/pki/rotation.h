#pragma once
/// When workload certificates are renewed. Istio's agent (SecretManagerClient.rotateTime)
/// renews a certificate once `grace ratio * lifetime` remains before its expiry, where lifetime
/// is expiry minus the time it got the certificate; SECRET_GRACE_PERIOD_RATIO defaults to 0.5,
/// so Istio rotates at 50% of the lifetime. The old certificate stays valid until its own
/// notAfter: rotation gives the new one, it revokes nothing.

#include <cstdint>
#include <optional>

#include "meshsim/common/status.h"
#include "meshsim/pki/ca.h"
#include "meshsim/pki/svid.h"

namespace meshsim::pki {

/// Istio's default SECRET_GRACE_PERIOD_RATIO.
inline constexpr double kDefaultGracePeriodRatio = 0.5;

/// Decides when an SVID is due for renewal and renews it. Immutable; thread-safe.
class SvidRotator {
 public:
  /// Rotates at 50% of the lifetime (kDefaultGracePeriodRatio).
  SvidRotator() = default;
  /// A rotator that renews once `ratio` of the lifetime remains. InvalidArgument unless
  /// 0 < ratio < 1.
  static Result<SvidRotator> withGracePeriodRatio(double ratio);

  /// The fraction of the lifetime left when rotation becomes due.
  double gracePeriodRatio() const { return ratio_; }

  /// The simulated time at which `svid` is due: not_after - ratio * (not_after - issued_at),
  /// rounded down to a whole second. Pure.
  int64_t rotationTime(const Svid& svid) const;
  /// True when `now` has reached rotationTime(svid). Pure.
  bool due(const Svid& svid, int64_t now) const { return now >= rotationTime(svid); }

  /// Issues a fresh SVID for the same request (identity, cluster, TTL) at ca.clock().now(),
  /// whether due or not. Errors as MeshCa::issue; InvalidArgument for a forged (self-signed)
  /// SVID, which has no cluster to reissue from.
  Result<Svid> rotate(MeshCa& ca, const Svid& current) const;

  /// rotate() when due(current, ca.clock().now()); std::nullopt when not yet due.
  Result<std::optional<Svid>> rotateIfDue(MeshCa& ca, const Svid& current) const;

 private:
  explicit SvidRotator(double ratio) : ratio_(ratio) {}
  double ratio_ = kDefaultGracePeriodRatio;
};

}  // namespace meshsim::pki
