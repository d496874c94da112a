#include "meshsim/config/loader.h"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "config/parsers.h"

namespace meshsim::config {

namespace {

namespace fs = std::filesystem;

// One YAML document of a multi-document file, with the line it starts on.
struct Chunk {
  std::string text;
  uint32_t first_line = 0;  ///< 0-based line of the chunk's first line in the file
};

bool isDocumentMarker(std::string_view line, std::string_view marker) {
  if (line.substr(0, 3) != marker) return false;
  return line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r';
}

// Splits at "---" / "..." lines so that an error in one document does not hide the others.
// The marker itself is blanked (columns stay right) and content after "--- " is kept.
std::vector<Chunk> splitDocuments(std::string_view text) {
  std::vector<Chunk> chunks;
  Chunk current;
  uint32_t line_no = 0;
  size_t pos = 0;
  bool any_content = false;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (isDocumentMarker(line, "---") || isDocumentMarker(line, "...")) {
      if (any_content) chunks.push_back(std::move(current));
      current = Chunk{};
      current.first_line = line_no;
      any_content = false;
      if (line.substr(0, 3) == "---" && line.size() > 3) {
        std::string rest(line);
        rest.replace(0, 3, "   ");
        current.text += rest;
        any_content = rest.find_first_not_of(" \t\r") != std::string::npos;
      }
      current.text += '\n';
    } else {
      if (current.text.empty()) current.first_line = line_no;
      current.text.append(line);
      current.text += '\n';
      if (line.find_first_not_of(" \t\r") != std::string_view::npos &&
          line.find_first_not_of(" \t\r") != line.find('#')) {
        any_content = true;
      }
    }
    ++line_no;
    if (end == text.size()) break;
    pos = end + 1;
  }
  if (any_content) chunks.push_back(std::move(current));
  return chunks;
}

// Counts nodes (following aliases) and depth, so hostile documents are refused before any
// recursive conversion. Returns false with `why` set when a limit is exceeded.
bool withinLimits(const YAML::Node& node, const LoadLimits& limits, size_t depth, size_t& count,
                  std::string& why, YAML::Mark& where) {
  if (++count > limits.max_nodes_per_document) {
    why = "document too large: more than " + std::to_string(limits.max_nodes_per_document) +
          " nodes (after expanding aliases)";
    where = node.Mark();
    return false;
  }
  if (depth > limits.max_depth) {
    why = "nesting deeper than " + std::to_string(limits.max_depth) + " levels";
    where = node.Mark();
    return false;
  }
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!withinLimits(it->first, limits, depth + 1, count, why, where)) return false;
      if (!withinLimits(it->second, limits, depth + 1, count, why, where)) return false;
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) {
      if (!withinLimits(item, limits, depth + 1, count, why, where)) return false;
    }
  }
  return true;
}

// Flow collections ("[[[[...") nest without indentation; yaml-cpp's own guard stops at 2000
// levels, which is already deep enough to exhaust a sanitizer's stack. Refuse early.
bool flowDepthOk(std::string_view text, size_t max_depth, uint32_t& bad_line, uint32_t& bad_col) {
  size_t depth = 0;
  uint32_t line = 0, col = 0;
  bool in_single = false, in_double = false, in_comment = false;
  for (char c : text) {
    ++col;
    if (c == '\n') {
      ++line;
      col = 0;
      in_comment = false;
      in_single = in_double = false;  // quoted scalars spanning lines are rare; be conservative
      continue;
    }
    if (in_comment) continue;
    if (in_double) {
      if (c == '"') in_double = false;
      continue;
    }
    if (in_single) {
      if (c == '\'') in_single = false;
      continue;
    }
    if (c == '#') in_comment = true;
    else if (c == '"') in_double = true;
    else if (c == '\'') in_single = true;
    else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        bad_line = line;
        bad_col = col;
        return false;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

bool looksBinary(std::string_view text) {
  size_t probe = std::min<size_t>(text.size(), 8192);
  for (size_t i = 0; i < probe; ++i) {
    if (text[i] == '\0') return true;
  }
  return false;
}

// RFC 3339 "2024-01-02T03:04:05Z" (fraction and offset accepted) -> seconds since the epoch.
std::optional<int64_t> parseTimestamp(const std::string& text) {
  std::tm tm{};
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return std::nullopt;
  if (*rest == '.') {
    ++rest;
    while (std::isdigit(static_cast<unsigned char>(*rest))) ++rest;
  }
  int64_t offset = 0;
  if (*rest == 'Z' || *rest == 'z') {
    ++rest;
  } else if (*rest == '+' || *rest == '-') {
    int sign = *rest == '-' ? -1 : 1;
    int hh = 0, mm = 0;
    if (std::sscanf(rest + 1, "%2d:%2d", &hh, &mm) != 2) return std::nullopt;
    offset = sign * (hh * 3600 + mm * 60);
    rest += 6;
  } else {
    return std::nullopt;
  }
  if (*rest != '\0') return std::nullopt;
  return static_cast<int64_t>(timegm(&tm)) - offset;
}

template <typename T>
model::Resource parseKind(MapReader& spec, model::ObjectMeta meta,
                          void (*fn)(MapReader&, T&)) {
  T out;
  out.meta = std::move(meta);
  fn(spec, out);
  return out;
}

template <typename Tag>
model::Resource parseSetting(MapReader& spec, model::ObjectMeta meta) {
  Tag out;
  out.meta = std::move(meta);
  parseHierarchySetting(spec, out);
  return out;
}

}  // namespace

std::optional<model::Resource> parseDocument(ReadContext& ctx, const YAML::Node& doc,
                                             int64_t load_index) {
  if (!doc.IsMap()) {
    ctx.diags->error(ctx.at(doc), "", "expected a resource (a mapping with apiVersion, kind, "
                                      "metadata and spec), got " + describe(doc));
    return std::nullopt;
  }
  MapReader top(ctx, doc, "");
  std::string api_version, kind;
  top.str("apiVersion", api_version, /*required=*/true);
  top.str("kind", kind, /*required=*/true);
  if (kind.empty()) {
    top.allow({"metadata", "spec", "status"});
    return std::nullopt;
  }
  const model::KindInfo* info = model::findKind(kind);
  if (info == nullptr) {
    std::vector<std::string_view> names;
    for (const auto& k : model::allKinds()) names.push_back(k.kind);
    std::string hint = closestMatch(kind, names);
    top.error("kind", "unknown kind \"" + kind + "\"" +
                          (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
    return std::nullopt;
  }
  if (!api_version.empty()) {
    std::string group = api_version, version;
    auto slash = api_version.find('/');
    if (slash != std::string::npos) {
      group = api_version.substr(0, slash);
      version = api_version.substr(slash + 1);
    }
    bool ok = group == info->group &&
              std::find(info->versions.begin(), info->versions.end(), version) != info->versions.end();
    if (!ok) {
      std::string accepted;
      for (auto v : info->versions) {
        if (!accepted.empty()) accepted += ", ";
        accepted += std::string(info->group) + "/" + std::string(v);
      }
      top.error("apiVersion", "\"" + api_version + "\" does not serve kind " + kind +
                                  "; expected " + accepted);
    }
  }

  model::ObjectMeta meta;
  meta.kind = kind;
  meta.api_version = api_version;
  meta.source = ctx.at(doc);
  {
    YAML::Emitter emitter;
    emitter << doc;
    meta.document = emitter.good() ? std::string(emitter.c_str()) + "\n" : std::string();
  }
  meta.creation_index = model::kUntimestampedCreationBase + load_index;
  MapReader md = top.map("metadata");
  if (!md.valid()) {
    if (!top.has("metadata")) top.error("metadata", "required field is missing");
  } else {
    md.str("name", meta.name, /*required=*/true);
    if (!meta.name.empty() && !isValidName(meta.name)) {
      md.error("name", "\"" + meta.name + "\" is not a valid name: use lower-case letters, digits, "
                       "'-' and '.', starting and ending with a letter or digit");
    }
    using S = model::KindInfo::Scope;
    bool istio = info->group != "meshsim";
    md.str("namespace", meta.namespace_);
    if (info->scope == S::kNamespaced) {
      if (meta.namespace_.empty()) {
        if (istio) meta.namespace_ = "default";
        else md.error("namespace", "required field is missing");
      } else if (!isValidName(meta.namespace_)) {
        md.error("namespace", "\"" + meta.namespace_ + "\" is not a valid namespace name");
      }
    } else if (!meta.namespace_.empty()) {
      md.error("namespace", "kind " + kind + " is not namespaced");
    }
    md.str("organization", meta.organization);
    bool needs_tenant = info->scope == S::kTenant || info->scope == S::kWorkspace || info->scope == S::kGroup;
    bool needs_workspace = info->scope == S::kWorkspace || info->scope == S::kGroup;
    bool needs_group = info->scope == S::kGroup;
    md.str("tenant", meta.tenant, needs_tenant);
    md.str("workspace", meta.workspace, needs_workspace);
    md.str("group", meta.group, needs_group);
    if (!needs_tenant && !meta.tenant.empty()) md.error("tenant", "kind " + kind + " does not belong to a tenant");
    if (!needs_workspace && !meta.workspace.empty()) md.error("workspace", "kind " + kind + " does not belong to a workspace");
    if (!needs_group && !meta.group.empty()) md.error("group", "kind " + kind + " does not belong to a group");
    md.strMap("labels", meta.labels);
    md.strMap("annotations", meta.annotations);
    std::string ts;
    if (md.str("creationTimestamp", ts)) {
      auto epoch = parseTimestamp(ts);
      if (!epoch) {
        md.error("creationTimestamp", "\"" + ts + "\" is not an RFC 3339 time such as 2024-05-01T12:00:00Z");
      } else {
        meta.creation_timestamp = ts;
        meta.creation_index = *epoch;
      }
    }
    md.allow({"uid", "resourceVersion", "generation", "fqn", "displayName"});
    md.finish();
  }

  YAML::Node spec_node = top.raw("spec");
  MapReader spec(ctx, spec_node, "spec");
  top.allow({"status"});
  top.finish();
  if (spec_node.IsDefined() && !spec_node.IsNull() && !spec.valid()) return std::nullopt;

  model::Resource r = [&]() -> model::Resource {
    const std::string& k = kind;
    if (k == "PeerAuthentication") return parseKind(spec, meta, parsePeerAuthentication);
    if (k == "RequestAuthentication") return parseKind(spec, meta, parseRequestAuthentication);
    if (k == "AuthorizationPolicy") return parseKind(spec, meta, parseAuthorizationPolicy);
    if (k == "VirtualService") return parseKind(spec, meta, parseVirtualService);
    if (k == "DestinationRule") return parseKind(spec, meta, parseDestinationRule);
    if (k == "ServiceEntry") return parseKind(spec, meta, parseServiceEntry);
    if (k == "Organization") return parseKind(spec, meta, parseOrganization);
    if (k == "Cluster") return parseKind(spec, meta, parseCluster);
    if (k == "Tenant") return parseKind(spec, meta, parseTenant);
    if (k == "Workspace") return parseKind(spec, meta, parseWorkspace);
    if (k == "Group") return parseKind(spec, meta, parseGroup);
    if (k == "Service") return parseKind(spec, meta, parseService);
    if (k == "Workload") return parseKind(spec, meta, parseWorkload);
    if (k == "User") return parseKind(spec, meta, parseUser);
    if (k == "Team") return parseKind(spec, meta, parseTeam);
    if (k == "Role") return parseKind(spec, meta, parseRole);
    if (k == "AccessBinding") return parseKind(spec, meta, parseAccessBinding);
    if (k == "OrganizationSetting") return parseSetting<model::OrganizationSettingRes>(spec, meta);
    if (k == "TenantSetting") return parseSetting<model::TenantSettingRes>(spec, meta);
    if (k == "WorkspaceSetting") return parseSetting<model::WorkspaceSettingRes>(spec, meta);
    if (k == "SecuritySetting") return parseKind(spec, meta, parseSecuritySetting);
    if (k == "TrafficSetting") return parseKind(spec, meta, parseTrafficSetting);
    if (k == "ServiceRoute") return parseKind(spec, meta, parseServiceRoute);
    if (k == "EgressGateway") return parseKind(spec, meta, parseEgressGateway);
    if (k == "IdentityProvider") return parseKind(spec, meta, parseIdentityProvider);
    return parseKind(spec, meta, parseScenario);
  }();
  spec.finish();
  return r;
}

LoadResult loadString(std::string_view text, const std::string& file, const LoadLimits& limits) {
  LoadResult result;
  result.files.push_back(file);
  if (text.size() > limits.max_file_bytes) {
    result.diagnostics.error({file, 1, 1}, "",
                             "file is " + std::to_string(text.size()) + " bytes; the limit is " +
                                 std::to_string(limits.max_file_bytes));
    return result;
  }
  if (looksBinary(text)) {
    result.diagnostics.error({file, 1, 1}, "", "not a text file (contains NUL bytes)");
    return result;
  }
  uint32_t bad_line = 0, bad_col = 0;
  if (!flowDepthOk(text, limits.max_depth, bad_line, bad_col)) {
    result.diagnostics.error({file, bad_line + 1, bad_col}, "",
                             "nesting deeper than " + std::to_string(limits.max_depth) + " levels");
    return result;
  }
  ReadContext ctx;
  ctx.file = file;
  ctx.diags = &result.diagnostics;
  int64_t index = 0;
  for (const Chunk& chunk : splitDocuments(text)) {
    ctx.line_offset = chunk.first_line;
    size_t errors_before = result.diagnostics.errorCount();
    YAML::Node doc;
    try {
      doc = YAML::Load(chunk.text);
    } catch (const YAML::Exception& e) {
      SourceLocation where = ctx.at(e.mark);
      if (!where.known()) where = {file, chunk.first_line + 1, 1};
      result.diagnostics.error(where, "", "invalid YAML: " + e.msg);
      continue;
    } catch (const std::exception& e) {
      result.diagnostics.error({file, chunk.first_line + 1, 1}, "",
                               std::string("invalid YAML: ") + e.what());
      continue;
    }
    if (!doc.IsDefined() || doc.IsNull()) continue;
    size_t count = 0;
    std::string why;
    YAML::Mark where;
    if (!withinLimits(doc, limits, 0, count, why, where)) {
      result.diagnostics.error(ctx.at(where), "", why);
      continue;
    }
    try {
      auto resource = parseDocument(ctx, doc, ++index);
      if (resource && result.diagnostics.errorCount() == errors_before) {
        result.resources.push_back(std::move(*resource));
      }
    } catch (const std::exception& e) {
      // yaml-cpp may throw on pathological nodes; report rather than crash.
      result.diagnostics.error({file, chunk.first_line + 1, 1}, "",
                               std::string("could not read document: ") + e.what());
    }
  }
  return result;
}

namespace {

void loadOneFile(const std::string& path, const std::string& display, const LoadLimits& limits,
                 LoadResult& out) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (!ec && size > limits.max_file_bytes) {
    out.files.push_back(display);
    out.diagnostics.error({display, 1, 1}, "",
                          "file is " + std::to_string(size) + " bytes; the limit is " +
                              std::to_string(limits.max_file_bytes));
    return;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    out.files.push_back(display);
    out.unreadable.push_back(display);
    out.diagnostics.error({display, 0, 0}, "", std::string("cannot read: ") + std::strerror(errno));
    return;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LoadResult one = loadString(text, display, limits);
  out.files.insert(out.files.end(), one.files.begin(), one.files.end());
  for (auto& r : one.resources) out.resources.push_back(std::move(r));
  out.diagnostics.append(one.diagnostics);
}

bool isYamlFile(const fs::path& p) {
  auto ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml";
}

}  // namespace

LoadResult loadPaths(const std::vector<std::string>& paths, const LoadLimits& limits) {
  LoadResult result;
  for (const auto& path : paths) {
    if (path == "-") {
      std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
      LoadResult one = loadString(text, "<stdin>", limits);
      result.files.push_back("<stdin>");
      for (auto& r : one.resources) result.resources.push_back(std::move(r));
      result.diagnostics.append(one.diagnostics);
      continue;
    }
    std::error_code ec;
    auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      result.unreadable.push_back(path);
      result.diagnostics.error({path, 0, 0}, "", "no such file or directory");
      continue;
    }
    if (fs::is_directory(status)) {
      std::vector<fs::path> files;
      for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec) && isYamlFile(it->path())) files.push_back(it->path());
      }
      if (ec) result.diagnostics.error({path, 0, 0}, "", "cannot list directory: " + ec.message());
      std::sort(files.begin(), files.end());
      for (const auto& f : files) loadOneFile(f.string(), f.string(), limits, result);
      continue;
    }
    loadOneFile(path, path, limits, result);
  }
  // Creation order follows load order across files too.
  int64_t index = 0;
  for (auto& r : result.resources) {
    auto& meta = model::metaOf(r);
    if (!meta.creation_timestamp) meta.creation_index = model::kUntimestampedCreationBase + ++index;
  }
  return result;
}

}  // namespace meshsim::config
