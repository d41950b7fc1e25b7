/*
 * user.h: `iiifd user add|passwd|remove NAME`: the users file of logins (auth/users.h).
 */
#ifndef IIIFD_TOOLS_USER_H
#define IIIFD_TOOLS_USER_H

/* argv: the arguments after "user". Returns the exit status. */
int tools_user_main(int argc, char **argv);

#endif
