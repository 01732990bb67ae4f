// Replaced by the server when the extension is downloaded from the console, with that server's address.
export const DEFAULT_SERVER = "";
