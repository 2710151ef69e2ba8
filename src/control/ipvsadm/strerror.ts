/**
 * Error texts of libipvs `ipvs_strerror()` (libipvs.c, ipvsadm 1.31): the
 * message depends on the libipvs call that failed and the errno the kernel
 * returned. ipvsadm prints it as one line on stderr.
 */

export const SERVICE_EXISTS = 'Service already exists';
export const NO_SUCH_SERVICE = 'No such service';
/** -a, -e or -d on a service that does not exist. */
export const SERVICE_NOT_DEFINED = 'Service not defined';
export const DEST_EXISTS = 'Destination already exists';
export const NO_SUCH_DEST = 'No such destination';
export const SCHED_NOT_FOUND = 'Scheduler or persistence engine not found';
export const DAEMON_RUNNING = 'Daemon has already run';
export const NO_DAEMON = 'No daemon is running';
export const PERMISSION_DENIED = 'Permission denied (you must be root)';
export const INVALID_OPERATION = 'Invalid operation.  Possibly wrong module version, address not unicast, ...';
export const PROTOCOL_NOT_AVAILABLE = 'Protocol not available';
export const NO_MEMORY = 'Memory allocation problem';
export const NOT_SUPPORTED_IPV6 = 'Operation not supported with IPv6';
export const NOT_SUPPORTED_AF = 'Operation not supported with specified address family';
export const WRONG_MODULE_VERSION = 'Module is wrong version';

/**
 * Not a libipvs message: ipvsadm's own check in process_options (exit status 2),
 * kept here because callers meet it next to the kernel errors.
 */
export const ZERO_PORT_NON_PERSISTENT = 'Zero port specified for non-persistent service';

/**
 * Exit status after a kernel/libipvs error: the libipvs call returns -1,
 * process_options returns it and main() exits with it, i.e. 255.
 */
export const KERNEL_ERROR_EXIT_STATUS = 255;

/** The libipvs calls whose failures ipvs_strerror distinguishes. */
export type IpvsOperation =
  | 'add-service' | 'edit-service' | 'delete-service' | 'zero'
  | 'add-server' | 'edit-server' | 'delete-server'
  | 'start-daemon' | 'stop-daemon' | 'get-services' | 'get-dests' | 'get-service';

/** The errno values ipvs_strerror knows. */
export type IpvsErrno =
  | 'EEXIST' | 'ENOENT' | 'ESRCH' | 'EPERM' | 'EINVAL' | 'ENOPROTOOPT'
  | 'ENOMEM' | 'EOPNOTSUPP' | 'EAFNOSUPPORT' | 'EMSGSIZE';

const BY_OPERATION: Readonly<Record<IpvsOperation, Partial<Record<IpvsErrno, string>>>> = {
  'add-service': { EEXIST: SERVICE_EXISTS, ENOENT: SCHED_NOT_FOUND },
  'edit-service': { ESRCH: NO_SUCH_SERVICE, ENOENT: SCHED_NOT_FOUND },
  'delete-service': { ESRCH: NO_SUCH_SERVICE },
  zero: { ESRCH: NO_SUCH_SERVICE },
  'add-server': { ESRCH: SERVICE_NOT_DEFINED, EEXIST: DEST_EXISTS },
  'edit-server': { ESRCH: SERVICE_NOT_DEFINED, ENOENT: NO_SUCH_DEST },
  'delete-server': { ESRCH: SERVICE_NOT_DEFINED, ENOENT: NO_SUCH_DEST },
  'start-daemon': { EEXIST: DAEMON_RUNNING },
  'stop-daemon': { ESRCH: NO_DAEMON },
  'get-services': { ESRCH: NO_SUCH_SERVICE },
  'get-dests': { ESRCH: NO_SUCH_SERVICE },
  'get-service': { ESRCH: NO_SUCH_SERVICE },
};

const ANY_OPERATION: Partial<Record<IpvsErrno, string>> = {
  EPERM: PERMISSION_DENIED,
  EINVAL: INVALID_OPERATION,
  ENOPROTOOPT: PROTOCOL_NOT_AVAILABLE,
  ENOMEM: NO_MEMORY,
  EOPNOTSUPP: NOT_SUPPORTED_IPV6,
  EAFNOSUPPORT: NOT_SUPPORTED_AF,
  EMSGSIZE: WRONG_MODULE_VERSION,
};

/** Linux strerror() texts for the errnos above, the table's fallback. */
const LIBC_STRERROR: Readonly<Record<IpvsErrno, string>> = {
  EEXIST: 'File exists',
  ENOENT: 'No such file or directory',
  ESRCH: 'No such process',
  EPERM: 'Operation not permitted',
  EINVAL: 'Invalid argument',
  ENOPROTOOPT: 'Protocol not available',
  ENOMEM: 'Cannot allocate memory',
  EOPNOTSUPP: 'Operation not supported',
  EAFNOSUPPORT: 'Address family not supported by protocol',
  EMSGSIZE: 'Message too long',
};

/** ipvs_strerror(errno) after `op` failed: first the per-call entry, then the generic one. */
export function ipvsStrerror(op: IpvsOperation, errno: IpvsErrno): string {
  return BY_OPERATION[op][errno] ?? ANY_OPERATION[errno] ?? LIBC_STRERROR[errno];
}
