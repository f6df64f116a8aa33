#include <sqlite3.h>
// SQLITE_TRANSIENT is a macro casting -1 to a destructor pointer; Swift cannot import it.
static const sqlite3_destructor_type policylist_sqlite_transient = (sqlite3_destructor_type)-1;
// SQLITE_STATIC likewise (a null destructor): SQLite uses the caller's bytes in place until the next bind or reset.
static const sqlite3_destructor_type policylist_sqlite_static = (sqlite3_destructor_type)0;
