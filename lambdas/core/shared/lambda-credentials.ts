/**
 * Bundles only (an esbuild alias for `@aws-sdk/credential-provider-node`, set in
 * lib/constructs/bundle-options.ts): in Lambda the runtime always hands the function's role
 * credentials over in the environment, so the Node default chain's other sources (SSO, ini and
 * process files, web identity, container and instance metadata, console login) are dead code
 * there, and about 38 KB of each gzipped bundle (docs/decisions/lean-functions.md). The local
 * runtime and the tests run the sources, with the SDK's own chain.
 */
/** The SDK's credential identity (structurally; its type package is not a dependency here). */
export interface LambdaCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** The variables the Lambda runtime sets for the execution role. */
const VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;

export const credentialsFromEnvironment = (
  env: Record<string, string | undefined> = process.env,
): LambdaCredentials => {
  const [accessKeyId, secretAccessKey, sessionToken] = VARIABLES.map((name) => env[name]);
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(
      'No AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): this ' +
        'bundle only reads the credentials the Lambda runtime sets',
    );
  }
  return { accessKeyId, secretAccessKey, ...(sessionToken && { sessionToken }) };
};

/** Same name and call shape as the SDK's: `defaultProvider(init)` gives a provider. */
export const defaultProvider = () => async (): Promise<LambdaCredentials> =>
  credentialsFromEnvironment();
