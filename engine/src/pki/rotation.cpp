#include "meshsim/pki/rotation.h"

#include <cmath>

namespace meshsim::pki {

Result<SvidRotator> SvidRotator::withGracePeriodRatio(double ratio) {
  if (!(ratio > 0.0 && ratio < 1.0)) {
    return invalidArgument("grace period ratio " + std::to_string(ratio) +
                           " must be strictly between 0 and 1");
  }
  return SvidRotator(ratio);
}

int64_t SvidRotator::rotationTime(const Svid& svid) const {
  // Lifetime as Istio's agent measures it: from when the certificate was obtained to expiry.
  const int64_t lifetime = svid.not_after - svid.issued_at;
  const auto grace = static_cast<int64_t>(std::ceil(ratio_ * static_cast<double>(lifetime)));
  return svid.not_after - grace;
}

Result<Svid> SvidRotator::rotate(MeshCa& ca, const Svid& current) const {
  if (current.request.cluster.empty()) {
    return invalidArgument("cannot rotate " + current.spiffe_id +
                           ": it was not issued by a mesh CA (no cluster)");
  }
  return ca.issue(current.request);
}

Result<std::optional<Svid>> SvidRotator::rotateIfDue(MeshCa& ca, const Svid& current) const {
  if (!due(current, ca.clock().now())) return std::optional<Svid>();
  auto next = rotate(ca, current);
  if (!next.ok()) return next.status();
  return std::optional<Svid>(std::move(next).value());
}

}  // namespace meshsim::pki
