// libpq from the system (Debian: libpq-dev).
#include <postgresql/libpq-fe.h>
