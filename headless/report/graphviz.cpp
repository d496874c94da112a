#include "report/graphviz.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <mutex>
#include <string_view>

namespace meshsim::report {

namespace {

// Graphviz reports problems through one global callback without user data; the messages of the
// call in progress (serialized by the mutex below) are gathered here.
std::string& errorText() {
  static std::string text;
  return text;
}

int collectError(char* message) {
  if (message != nullptr) errorText() += message;
  return 0;
}

// Graphviz hands over its messages in fragments ("Error", ": ", "syntax error ...\n"): lines
// are joined with "; ".
std::string graphvizMessage(const char* fallback) {
  std::string out;
  std::string line;
  auto flush = [&] {
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (!line.empty()) out += (out.empty() ? "" : "; ") + line;
    line.clear();
  };
  for (char c : errorText()) {
    if (c == '\n') {
      flush();
    } else {
      line += c;
    }
  }
  flush();
  return out.empty() ? std::string(fallback) : out;
}

// Graphviz writes every '-' as "&#45;" (a "--" would end an XML comment). Outside comments a
// plain '-' is valid XML, and ids such as "node:bookinfo/productpage-v1" must stay findable by
// scripts (getElementById) and by people reading the file, so they are restored there.
std::string restoreHyphens(const std::string& svg) {
  static constexpr std::string_view kEntity = "&#45;";
  std::string out;
  out.reserve(svg.size());
  size_t i = 0;
  while (i < svg.size()) {
    if (svg.compare(i, 4, "<!--") == 0) {
      size_t end = svg.find("-->", i + 4);
      end = end == std::string::npos ? svg.size() : end + 3;
      out.append(svg, i, end - i);
      i = end;
    } else if (svg.compare(i, kEntity.size(), kEntity) == 0) {
      out += '-';
      i += kEntity.size();
    } else {
      out += svg[i++];
    }
  }
  return out;
}

}  // namespace

Result<std::string> renderSvg(const std::string& dot) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  // One context for the life of the process: creating one reads the plugin configuration again.
  static GVC_t* gvc = [] {
    agseterrf(collectError);
    agseterr(AGWARN);
    return gvContext();
  }();
  errorText().clear();
  agreseterrors();
  if (gvc == nullptr) return failedPrecondition("graphviz: could not create a context");

  Agraph_t* graph = agmemread(dot.c_str());
  if (graph == nullptr) {
    return invalidArgument("graphviz: not a valid DOT graph: " + graphvizMessage("syntax error"));
  }
  if (agerrors() >= AGERR) {
    std::string message = graphvizMessage("error while reading the graph");
    agclose(graph);
    return invalidArgument("graphviz: " + message);
  }
  if (gvLayout(gvc, graph, "dot") != 0) {
    std::string message = graphvizMessage("layout failed");
    agclose(graph);
    if (message.find("Layout type") != std::string::npos) {
      return failedPrecondition("graphviz: no \"dot\" layout plugin (" + message +
                                "); register the plugins with `dot -c`");
    }
    return invalidArgument("graphviz: " + message);
  }
  char* data = nullptr;
  unsigned int length = 0;
  int rc = gvRenderData(gvc, graph, "svg", &data, &length);
  std::string svg = rc == 0 && data != nullptr ? std::string(data, length) : std::string();
  if (data != nullptr) gvFreeRenderData(data);
  gvFreeLayout(gvc, graph);
  // Errors during layout or rendering (a malformed HTML-like label, say) leave a picture that is
  // not what the DOT asked for: report them instead of returning it.
  const bool failed = rc != 0 || svg.empty() || agerrors() >= AGERR;
  std::string message = graphvizMessage("rendering failed");
  agclose(graph);
  if (rc != 0 && message.find("not recognized") != std::string::npos) {
    return failedPrecondition("graphviz: no svg renderer plugin (" + message +
                              "); register the plugins with `dot -c`");
  }
  if (failed) return invalidArgument("graphviz: " + message);
  return restoreHyphens(svg);
}

}  // namespace meshsim::report
