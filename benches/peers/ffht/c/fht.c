#include "fht.h"

#include "fht_impl.h"
