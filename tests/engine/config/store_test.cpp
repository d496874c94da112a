// The config store: revisions, replacement, deletion and deterministic snapshots.
#include "meshsim/config/store.h"

#include <gtest/gtest.h>

#include "meshsim/config/loader.h"

namespace meshsim::config {
namespace {

model::Resource tenant(const std::string& name) {
  model::Tenant t;
  t.meta.kind = "Tenant";
  t.meta.name = name;
  return t;
}

TEST(ConfigStore, EveryChangeIncrementsTheRevision) {
  ConfigStore store;
  EXPECT_EQ(store.revision(), 0u);
  EXPECT_EQ(store.apply(tenant("b")), 1u);
  EXPECT_EQ(store.apply(tenant("a")), 2u);
  EXPECT_EQ(store.apply(tenant("a")), 3u);  // replace
  EXPECT_EQ(store.size(), 2u);
  auto removed = store.remove({"Tenant", "", "a"});
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 4u);
  EXPECT_EQ(store.size(), 1u);
}

TEST(ConfigStore, DeletingAMissingResourceIsNotFound) {
  ConfigStore store;
  auto r = store.remove({"Tenant", "", "ghost"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "Tenant ghost does not exist");
}

TEST(ConfigStore, SnapshotsAreImmutableAndOrdered) {
  ConfigStore store;
  store.apply(tenant("zeta"));
  store.apply(tenant("alpha"));
  auto first = store.snapshot();
  EXPECT_EQ(first.get(), store.snapshot().get()) << "unchanged store reuses its snapshot";
  store.apply(tenant("mid"));
  auto second = store.snapshot();
  ASSERT_EQ(first->tenants.size(), 2u);
  ASSERT_EQ(second->tenants.size(), 3u);
  EXPECT_EQ(second->tenants[0]->meta.name, "alpha");
  EXPECT_EQ(second->tenants[2]->meta.name, "zeta");
  EXPECT_EQ(second->revision, 3u);
}

TEST(ConfigStore, ReplacingKeepsTheOriginalCreationOrder) {
  ConfigStore store;
  store.apply(tenant("a"));
  store.apply(tenant("b"));
  int64_t a_created = store.snapshot()->tenants[0]->meta.creation_index;
  store.apply(tenant("a"));
  EXPECT_EQ(store.snapshot()->tenants[0]->meta.creation_index, a_created);
  EXPECT_LT(a_created, store.snapshot()->tenants[1]->meta.creation_index);
}

TEST(Snapshot, CountsByKindInKindOrder) {
  auto r = loadString("apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: t}\n---\n"
                      "apiVersion: meshsim/v1\nkind: Cluster\nmetadata: {name: c}\n---\n"
                      "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p}\n",
                      "x.yaml");
  auto snap = makeSnapshot(r.resources);
  auto counts = snap->countsByKind();
  ASSERT_EQ(counts.size(), 3u);
  EXPECT_EQ(counts[0].first, "PeerAuthentication");
  EXPECT_EQ(counts[1].first, "Cluster");
  EXPECT_EQ(counts[2].first, "Tenant");
  EXPECT_EQ(snap->trustDomain(), "cluster.local");
  EXPECT_EQ(snap->rootNamespace(), "istio-system");
}

}  // namespace
}  // namespace meshsim::config
