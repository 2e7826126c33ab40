export { waitFor } from '../../support/wait-for';
