#pragma once
/// How the composition root (gui/main.cpp) and tests give a MeshSession its data plane. Kept
/// apart from mesh_session.h so that panels never see engine types.

#include "app/mesh_session.h"
#include "meshsim/dataplane/dataplane.h"

namespace meshsim::gui {

/// Lets `session` start live meshes with data planes made by `factory`. Call before
/// startMesh(); GUI thread only.
void setDataPlaneFactory(MeshSession& session, dataplane::DataPlaneFactory factory);

}  // namespace meshsim::gui
