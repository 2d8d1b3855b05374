/* version.h - RoomKey's version, for `roomkey --version` and the admin
 * API's status. */
#ifndef RK_VERSION_H
#define RK_VERSION_H

#define ROOMKEY_VERSION "0.1.0"

#endif
