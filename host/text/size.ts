/**
 * Sizes, as the command line and the configuration file give them: the SDK's parser
 * (plugins/sdk/size.ts), which engines share.
 *
 * @module
 */

export { parseSize } from "../../plugins/sdk/size.ts";
