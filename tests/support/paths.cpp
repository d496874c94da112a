// paths.h is header-only; this file keeps the support library non-empty on every platform.
#include "support/paths.h"
