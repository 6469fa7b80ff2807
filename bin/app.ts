#!/usr/bin/env node
// The CDK CLI entry point (cdk.json: `npx tsx bin/app.ts`). The CLI synthesizes the app itself.
import { buildApp } from '../lib/app';

buildApp();
