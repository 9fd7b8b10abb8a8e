import { runGateway } from '@portal/api-gateway';

await runGateway();
